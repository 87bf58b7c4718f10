/** One server's tool, by the names its config and the server give. */
export type ServerTool = {
    readonly server: string;
    /** The tool's name as its server gives it (what `callTool` and `autoApprove` use). */
    readonly tool: string;
};

export type ToolNames = {
    /** The name the model sees -> the server's tool. */
    readonly names: ReadonlyMap<string, ServerTool>;
    /** Tools left out: their name, even prefixed, is another tool's. */
    readonly dropped: readonly ServerTool[];
};

/** The longest function name the OpenAI API takes. */
const maxNameLength = 64;

/**
 * The names the model sees, unique: a tool's own name, or `server_tool` for every tool whose name two servers
 * share. Characters the OpenAI API refuses in a function name (anything but letters, digits, `_` and `-`)
 * become `_`. Pure; the servers' order decides which tool keeps a name that still collides.
 */
export function assignToolNames(servers: readonly {readonly server: string, readonly tools: readonly string[]}[]): ToolNames {
    const serversOfName = new Map<string, Set<string>>();
    for (const {server, tools} of servers)
        for (const tool of tools)
            serversOfName.set(modelName(tool), (serversOfName.get(modelName(tool)) ?? new Set()).add(server));

    const names = new Map<string, ServerTool>();
    const dropped: ServerTool[] = [];
    for (const {server, tools} of servers)
        for (const tool of tools) {
            const shared = (serversOfName.get(modelName(tool))?.size ?? 0) > 1;
            const name = modelName(shared ? `${server}_${tool}` : tool);
            if (names.has(name))
                dropped.push({server, tool});
            else
                names.set(name, {server, tool});
        }
    return {names, dropped};
}

function modelName(name: string): string {
    return name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, maxNameLength);
}
