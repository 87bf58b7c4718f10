import type {ToolCallOutcome, ToolDefinition} from "../llm/types.js";

/** A tool as `/tools` lists it. */
export type ToolListing = {
    /** The name the model sees (prefixed with the server's name when two servers share it). */
    readonly name: string;
    /** In the server's `autoApprove`: runs without asking. */
    readonly autoApprove: boolean;
};

/** One MCP server as `/tools` shows it. */
export type ToolServerStatus = {
    /** Its key in `mcpServers`. */
    readonly name: string;
    readonly state: "connected" | "connecting" | "failed" | "disabled";
    /** Why it is not connected (secrets redacted), when it failed. */
    readonly problem?: string;
    readonly tools: readonly ToolListing[];
};

/**
 * The tools the admin's MCP servers offer, as one catalog: what the model may call, and how to call it. Only
 * `TOOLS_CONFIG` decides which servers run; nothing a Discord user writes reaches this but a call's arguments.
 */
export interface ToolCatalog {
    /** The tools offered now, names unique. */
    definitions(): readonly ToolDefinition[];
    /** false for a tool in its server's `autoApprove`; true for every other (and for an unknown name). */
    needsApproval(name: string): boolean;
    /**
     * Runs one tool, within `TOOL_TIMEOUT_MS`. Never throws: a tool error, a server gone, a time-out
     * ("timeout") or a name no server offers ("unknown") come back as an outcome whose `result` says so.
     * Images and other binary content become a short note.
     */
    call(name: string, args: unknown, signal: AbortSignal): Promise<ToolCallOutcome>;
    servers(): readonly ToolServerStatus[];
}
