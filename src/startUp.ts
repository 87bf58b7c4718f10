import {ConfigError, loadConfig, secretsOf} from "./config.js";
import type {Config, ParseConfigOptions} from "./config.js";
import {createLogger} from "./logger.js";
import type {Logger} from "./logger.js";
import {readToolsConfig, secretsOfToolsConfig, ToolsConfigError} from "./tools/ToolsConfig.js";
import type {ToolsConfig} from "./tools/ToolsConfig.js";

export type StartUpOptions = ParseConfigOptions & {
    /** false: at LOG_LEVEL=info, only warnings and errors are logged (the terminal chat shows its own numbers). default true */
    readonly infoLogged?: boolean;
};

/**
 * What every entry point does first: the validated settings (or one message naming every bad one and
 * exit code 1), the MCP servers of TOOLS_CONFIG (or one line saying what is wrong with the file, and exit
 * code 1), and the logger LOG_LEVEL and LOG_FORMAT ask for, which never writes a secret (those of
 * TOOLS_CONFIG included).
 */
export function startUp({infoLogged = true, ...options}: StartUpOptions): {config: Config, logger: Logger, tools: ToolsConfig | undefined} {
    const config = loadConfigOrExit(options);
    const tools = config.toolsConfig == null ? undefined : readToolsConfigOrExit(config.toolsConfig);
    const level = !infoLogged && config.logLevel === "info" ? "warn" : config.logLevel;
    const secrets = [...secretsOf(config), ...(tools == null ? [] : secretsOfToolsConfig(tools))];
    return {config, logger: createLogger({level, format: config.logFormat, secrets}), tools};
}

function readToolsConfigOrExit(file: string): ToolsConfig {
    try {
        return readToolsConfig(file);
    } catch (error) {
        if (error instanceof ToolsConfigError) {
            process.stderr.write(`${error.userMessage}\n`);
            process.exit(1);
        }
        throw error;
    }
}

function loadConfigOrExit(options: ParseConfigOptions): Config {
    try {
        return loadConfig(options);
    } catch (error) {
        if (error instanceof ConfigError) {
            process.stderr.write(`${error.message}\nSee .env.example for every setting and its meaning.\n`);
            process.exit(1);
        }
        throw error;
    }
}
