import type {ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse} from "node-llama-cpp";
import {historyItemText} from "../chatHistory.js";
import type {ChatMessage} from "./OpenAiClient.js";
import {madeUpToolCallId} from "./ToolCallAssembler.js";

/**
 * A tool call and its result in a saved model turn: node-llama-cpp's function call (so the in-process engine
 * reads it too), with the server's `tool_call_id` kept so the conversation is sent back exactly as it was
 * written (some templates render the ids). `params` is the arguments object; `result` the text the model read.
 */
export type SavedToolCall = ChatModelFunctionCall & {readonly toolCallId?: string};

/**
 * A saved conversation and the new user turn as the messages of a chat completion, followed by the answer
 * so far when it has made tool calls. Histories are node-llama-cpp's format, so a channel keeps its
 * conversation when the bot switches engines; a model turn's thoughts are not sent back (reasoning models
 * drop earlier thoughts anyway).
 */
export function chatMessages(history: readonly ChatHistoryItem[], prompt: string, answer: ChatModelResponse["response"] = []): ChatMessage[] {
    const messages = history.flatMap((item): ChatMessage[] => {
        switch (item.type) {
            case "system":
                return [{role: "system", content: historyItemText(item)}];
            case "user":
                return [{role: "user", content: item.text}];
            case "model":
                return modelMessages(item.response);
        }
    });
    return [...messages, {role: "user", content: prompt}, ...modelMessages(answer)];
}

/**
 * A model turn as messages: its text as assistant messages, each group of tool calls (the calls of one
 * message: a call that `startsNewChunk` begins the next group) on the assistant message before it, then
 * one `tool` message per call with its result. Thought segments are left out.
 */
function modelMessages(response: ChatModelResponse["response"]): ChatMessage[] {
    const messages: ChatMessage[] = [];
    let text = "";
    let calls: ChatModelFunctionCall[] = [];
    let callsBefore = 0;
    const flush = () => {
        if (calls.length > 0) {
            const ids = calls.map((call, index) => toolCallIdOf(call, callsBefore + index));
            callsBefore += calls.length;
            messages.push({
                role: "assistant", content: text,
                tool_calls: calls.map((call, index) => ({id: ids[index]!, type: "function", function: {name: call.name, arguments: argumentsText(call.params)}}))
            });
            for (const [index, call] of calls.entries())
                messages.push({role: "tool", tool_call_id: ids[index]!, content: resultText(call.result)});
        } else if (text !== "")
            messages.push({role: "assistant", content: text});
        text = "";
        calls = [];
    };
    for (const part of response) {
        if (typeof part === "string") {
            if (calls.length > 0)
                flush();
            text += part;
        } else if (part.type === "functionCall") {
            if (part.startsNewChunk === true && calls.length > 0)
                flush();
            calls.push(part);
        }
    }
    flush();
    return messages;
}

/** The saved id, else one made up from the call's place (the same every time the turn is sent). */
function toolCallIdOf(call: SavedToolCall, number: number): string {
    return typeof call.toolCallId === "string" ? call.toolCallId : madeUpToolCallId(number);
}

/**
 * The arguments as JSON text. Arguments that were not a JSON object (the call failed without running)
 * go back as `{}`: servers that parse them for the template (llama-server) refuse anything else.
 */
function argumentsText(params: unknown): string {
    return JSON.stringify(typeof params === "object" && params != null && !Array.isArray(params) ? params : {});
}

function resultText(result: unknown): string {
    return typeof result === "string" ? result : JSON.stringify(result) ?? "";
}
