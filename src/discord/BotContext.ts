import type {ChatService} from "../chat/ChatService.js";
import type {Cooldown} from "../chat/Cooldown.js";
import type {Personas} from "../chat/Personas.js";
import type {PersonaPermission, ResetPermission} from "../config.js";
import type {Logger} from "../logger.js";
import type {DiscordErrorReporter} from "./DiscordErrorReporter.js";
import type {AccessRules} from "./input/accessRules.js";
import type {ChannelWriteLimits} from "./reply/ChannelWriteLimits.js";
import type {ActiveAnswers} from "./state/ActiveAnswers.js";
import type {InterruptedReplies} from "./state/InterruptedReplies.js";
import type {RecentReasoning} from "./state/RecentReasoning.js";

/** What the Discord handlers share: the chat layer and the bot's own bookkeeping. */
export type BotContext = {
    readonly chat: ChatService;
    readonly personas: Personas;
    readonly answers: ActiveAnswers;
    readonly cooldown: Cooldown;
    readonly logger: Logger;
    readonly errors: DiscordErrorReporter;
    readonly interrupted: InterruptedReplies;
    /** The latest answers' thoughts, for their Reasoning buttons. */
    readonly reasoning: RecentReasoning;
    /** Discord's per-channel write limit, shared by every write the bot makes to a channel. */
    readonly writeLimits: ChannelWriteLimits;
    readonly settings: {
        readonly editIntervalMs: number;
        readonly showThinking: boolean;
        /** THINKING_BUDGET: 0 turns thinking off, so no answer shows a thinking time. */
        readonly thinkingBudget: number;
        readonly resetPermission: ResetPermission;
        readonly personaPermission: PersonaPermission;
        readonly access: AccessRules;
        /** The largest text file read into a prompt, and how many files of one message. */
        readonly attachmentMaxBytes: number;
        readonly attachmentMaxFiles: number;
        /** The only hosts attachments are downloaded from (Discord's, or a compatible server's). */
        readonly attachmentHosts: readonly string[];
    };
};
