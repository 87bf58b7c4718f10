import fs from "node:fs";
import {z} from "zod";
import {UserFacingError} from "../errors.js";
import {errorMessage} from "../utils/errorMessage.js";
import {isMissingFileError} from "../utils/isMissingFileError.js";
import {secretsOfUrl} from "../utils/urlSecrets.js";

/** What every server entry may say, whichever way it is reached. */
type ServerCommon = {
    /** Its key in `mcpServers`. */
    readonly name: string;
    /** The names (as the server gives them) of the tools that run without asking. */
    readonly autoApprove: readonly string[];
    readonly disabled: boolean;
};

/** A server the bot starts as a child process and talks to over its stdin and stdout. */
export type StdioServerConfig = ServerCommon & {
    readonly transport: "stdio";
    readonly command: string;
    readonly args: readonly string[];
    /** Its whole environment, with the basic variables (PATH, HOME, ...): nothing else of the bot's. */
    readonly env: Readonly<Record<string, string>>;
    /** default: the bot's working directory */
    readonly cwd: string | undefined;
};

/** A server the bot connects to: Streamable HTTP, or the older SSE transport where that is all it speaks. */
export type HttpServerConfig = ServerCommon & {
    readonly transport: "http";
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
};

export type ToolServerConfig = StdioServerConfig | HttpServerConfig;

/** `TOOLS_CONFIG`, read and checked: the MCP servers, in the file's order. */
export type ToolsConfig = {
    readonly servers: readonly ToolServerConfig[];
};

/** A `TOOLS_CONFIG` file that cannot be used: one line naming the setting, the file and the problem. */
export class ToolsConfigError extends UserFacingError {
    constructor(file: string, problem: string) {
        super("tools-config", `TOOLS_CONFIG=${JSON.stringify(file)}: ${problem}`);
        this.name = "ToolsConfigError";
    }
}

/** Server names prefix tool names the model sees, which the OpenAI API limits to these characters. */
const serverNamePattern = /^[A-Za-z0-9_-]{1,32}$/;

const stringList = z.array(z.string({error: "must be a list of strings"}), {error: "must be a list of strings"});
const stringMap = z.record(z.string(), z.string({error: "must be an object whose values are strings"}), {
    error: "must be an object whose values are strings"
});

const serverSchema = z.object({
    command: z.string({error: "must be a string"}).trim().min(1, {error: "must not be empty"}).optional(),
    args: stringList.optional(),
    env: stringMap.optional(),
    cwd: z.string({error: "must be a string"}).optional(),
    url: z.url({protocol: /^https?$/, error: "must be an http(s) URL"}).optional(),
    headers: stringMap.optional(),
    autoApprove: stringList.optional(),
    disabled: z.boolean({error: "must be true or false"}).optional()
    // other keys (Cline's "timeout", "type"...) are another client's: ignored
}, {error: "must be an object"});

const fileSchema = z.object({
    mcpServers: z.record(z.string(), serverSchema, {error: "must be an object, one entry per server"})
}, {error: "must be a JSON object with \"mcpServers\""});

/**
 * Checks the text of a `TOOLS_CONFIG` file (the format Claude Desktop, Cursor and Cline share, with Cline's
 * `autoApprove` and `disabled`). Pure.
 * @throws {ToolsConfigError} naming every problem, on one line
 */
export function parseToolsConfig(text: string, file: string): ToolsConfig {
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch (error) {
        throw new ToolsConfigError(file, `not valid JSON${whereInText(text, errorMessage(error))}`);
    }
    const result = fileSchema.safeParse(json);
    if (!result.success)
        throw new ToolsConfigError(file, result.error.issues.map((issue) => {
            const where = issue.path.map(String).join(".");
            return where === "" ? issue.message : `${where}: ${issue.message}`;
        }).join("; "));

    const problems: string[] = [];
    const servers: ToolServerConfig[] = [];
    for (const [name, entry] of Object.entries(result.data.mcpServers)) {
        const at = `mcpServers.${name}`;
        const common = {name, autoApprove: entry.autoApprove ?? [], disabled: entry.disabled ?? false};
        if (!serverNamePattern.test(name))
            problems.push(`${JSON.stringify(name)}: a server's name may hold only letters, digits, - and _ (1 to 32), since it can prefix its tools' names`);
        else if (entry.command != null && entry.url != null)
            problems.push(`${at}: give "command" (a server the bot starts) or "url" (a server it connects to), not both`);
        else if (entry.command != null)
            servers.push({...common, transport: "stdio", command: entry.command, args: entry.args ?? [], env: entry.env ?? {}, cwd: entry.cwd});
        else if (entry.url != null) {
            const stdioOnly = (["args", "env", "cwd"] as const).filter((key) => entry[key] != null);
            if (stdioOnly.length > 0)
                problems.push(`${at}: ${stdioOnly.map((key) => `"${key}"`).join(", ")} only go with "command"; a "url" server takes "headers"`);
            else
                servers.push({...common, transport: "http", url: entry.url, headers: entry.headers ?? {}});
        } else
            problems.push(`${at}: needs "command" (a server the bot starts) or "url" (a server it connects to)`);
    }
    if (problems.length > 0)
        throw new ToolsConfigError(file, problems.join("; "));
    return {servers};
}

/**
 * Where JSON.parse stopped, as " (line 3, column 2)". Its message itself is not shown: newer Node.js versions
 * quote the text around the mistake, which may be a key in `env`.
 */
function whereInText(text: string, parseError: string): string {
    const position = /at position (\d+)/.exec(parseError)?.[1];
    if (position == null)
        return /end of JSON input/i.test(parseError) ? " (it ends too early)" : "";
    const before = text.slice(0, Number(position)).split("\n");
    return ` (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
}

/**
 * Reads and checks the `TOOLS_CONFIG` file.
 * @throws {ToolsConfigError} when it cannot be read or used
 */
export function readToolsConfig(file: string): ToolsConfig {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new ToolsConfigError(file, isMissingFileError(error)
            ? "no such file (give the path of a JSON file with \"mcpServers\")"
            : `cannot be read (${errorMessage(error)})`);
    }
    return parseToolsConfig(text, file);
}

/**
 * What must never reach a log or `/tools`: every value of a server's `env` and `headers` (and the token of an
 * `Authorization: Bearer <token>`), and a URL's password and query.
 */
export function secretsOfToolsConfig(config: ToolsConfig): string[] {
    return [...new Set(config.servers.flatMap((server) => server.transport === "stdio"
        ? Object.values(server.env)
        : [...Object.values(server.headers).flatMap((value) => [value, value.replace(/^\S+\s+/, "")]), ...secretsOfUrl(server.url)]))];
}
