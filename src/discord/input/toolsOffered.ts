import type {DiscordTools} from "../BotContext.js";

/**
 * Whether the model is offered tools for a question asked in `channelIds` (a thread, then its parent
 * channel): only with tools configured, and within TOOLS_CHANNEL_IDS when it names channels.
 */
export function toolsOffered(tools: DiscordTools | undefined, channelIds: readonly (string | undefined)[]): tools is DiscordTools {
    if (tools === undefined)
        return false;
    return tools.channelIds.length === 0 || channelIds.some((id) => id !== undefined && tools.channelIds.includes(id));
}
