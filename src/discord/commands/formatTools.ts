import type {ToolServerStatus} from "../../tools/ToolCatalog.js";

export const noToolsText = "No tools are configured.";

/** What `/tools` knows besides the servers. */
export type ToolsOverview = {
    /** The context room the tool descriptions take in every conversation, in tokens. */
    readonly roomTokens: number;
    /** Whether tools are offered in the channel `/tools` was run in (TOOLS_CHANNEL_IDS). */
    readonly offeredHere: boolean;
};

/** The longest reason shown for a server that is not connected. */
const maxProblemLength = 300;

/**
 * The `/tools` reply: each server, whether it is connected (or why not), its tools and which of them
 * run without asking, and the context room their descriptions take. Pure. Names and problems come
 * from the servers: they are kept on their line and cannot format the reply.
 */
export function formatTools(servers: readonly ToolServerStatus[], {roomTokens, offeredHere}: ToolsOverview): string {
    if (servers.length === 0)
        return noToolsText;

    const lines = [
        `**Tools** (their descriptions take ${roomTokens.toLocaleString("en-US")} tokens of every conversation's context)`,
        offeredHere ? "The model may call them in this channel." : "-# Not offered in this channel: a server admin chose the channels tools are offered in (TOOLS_CHANNEL_IDS)."
    ];
    for (const server of servers) {
        lines.push("", `**${plain(server.name)}**: ${describeState(server)}`);
        if (server.tools.length === 0 && server.state === "connected")
            lines.push("- (no tools)");
        for (const tool of server.tools)
            lines.push(`- \`${code(tool.name)}\`: ${tool.autoApprove ? "runs without asking" : "asks first (Allow / Deny)"}`);
    }
    return lines.join("\n");
}

function describeState({state, problem}: ToolServerStatus): string {
    switch (state) {
        case "connected":
            return "connected";
        case "connecting":
            return "connecting…";
        case "disabled":
            return "disabled";
        case "failed": {
            const why = problem === undefined ? "" : plain(problem).slice(0, maxProblemLength);
            return why === "" ? "not connected" : `not connected: ${why}`;
        }
    }
}

/** One line of plain text: no Markdown, no line breaks. */
function plain(text: string): string {
    return text.replace(/\s+/g, " ").trim().replace(/[\\*_~`|[\]()<>#]/g, "\\$&");
}

/** Text inside an inline code span: no backticks, no line breaks. */
function code(text: string): string {
    return text.replace(/\s+/g, " ").replace(/`/g, "ˋ");
}
