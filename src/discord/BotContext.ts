import type {ChatService} from "../chat/ChatService.js";
import type {Cooldown} from "../chat/Cooldown.js";
import type {Personas} from "../chat/Personas.js";
import type {PersonaPermission, ResetPermission} from "../config.js";
import type {Logger} from "../logger.js";
import type {ToolCallStatus} from "../llm/types.js";
import type {ToolCatalog} from "../tools/ToolCatalog.js";
import type {DiscordErrorReporter} from "./DiscordErrorReporter.js";
import type {AccessRules} from "./input/accessRules.js";
import type {ChannelWriteLimits} from "./reply/ChannelWriteLimits.js";
import type {ActiveAnswers} from "./state/ActiveAnswers.js";
import type {InterruptedReplies} from "./state/InterruptedReplies.js";
import type {PendingApprovals} from "./state/PendingApprovals.js";
import type {RecentAnswerTexts} from "./state/RecentAnswerTexts.js";

/** The tools the model may call from Discord, and where. */
export type DiscordTools = {
    /** The admin's MCP servers' tools (TOOLS_CONFIG). */
    readonly catalog: ToolCatalog;
    /** MAX_TOOL_CALLS: calls per answer. */
    readonly maxCalls: number;
    /** TOOL_RESULT_MAX_TOKENS: the longest result the model reads. */
    readonly resultMaxTokens: number;
    /** TOOLS_CHANNEL_IDS: where tools are offered (a thread follows its parent); empty: wherever the bot answers. */
    readonly channelIds: readonly string[];
    /** The context room the tool descriptions take in every conversation, in tokens, as the runtime last measured it (for `/tools`). */
    readonly contextTokens: number;
};

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
    readonly reasoning: RecentAnswerTexts;
    /** The latest answers' tool calls, for their Tools buttons. */
    readonly toolReports: RecentAnswerTexts;
    /** Tools offered to the model; undefined when TOOLS_CONFIG names none. */
    readonly tools: DiscordTools | undefined;
    /** Told how each tool call ended (for the metrics). */
    readonly onToolCallEnded: (status: ToolCallStatus) => void;
    /** The tool calls waiting for Allow or Deny. */
    readonly approvals: PendingApprovals;
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
        /** How long a tool call waits for Allow or Deny before it counts as Deny. */
        readonly toolApprovalWaitMs: number;
    };
};
