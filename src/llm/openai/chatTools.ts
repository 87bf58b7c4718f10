import type {ToolDefinition} from "../types.js";
import type {ChatTool} from "./OpenAiClient.js";

/** Tools as the chat completions API offers them: functions whose parameters are the tool's JSON Schema, as it is. */
export function chatTools(definitions: readonly ToolDefinition[]): ChatTool[] {
    return definitions.map(({name, description, parameters}) => ({type: "function", function: {name, description, parameters}}));
}
