import {LlamaText, TokenBias} from "node-llama-cpp";
import type {ChatSessionModelFunctions, ChatWrapper, GbnfJsonObjectSchema, LlamaModel, Token} from "node-llama-cpp";
import type {Logger} from "../../logger.js";
import {errorMessage} from "../../utils/errorMessage.js";
import {limitOutcome, resultCutNote} from "../toolCallTexts.js";
import type {ToolCallOutcome, ToolDefinition, TurnTools} from "../types.js";
import {toGbnfJsonSchema, withoutOmittedNulls} from "./toolSchema.js";

export type FunctionsOfTools = {
    readonly functions: ChatSessionModelFunctions;
    /** The tools that cannot be offered (their schema cannot be expressed), with why. */
    readonly refused: ReadonlyArray<{readonly name: string, readonly reason: string}>;
};

/**
 * The tools as node-llama-cpp functions (the ones whose schema it can express), each with the given handler.
 * Pure of any turn's state: {@link TurnFunctions} gives them their handlers; measuring the tools' room uses it too.
 */
export function functionsOfTools(
    definitions: readonly ToolDefinition[],
    handler: (definition: ToolDefinition) => (params: unknown) => Promise<string>
): FunctionsOfTools {
    const functions: Record<string, {description: string, params: GbnfJsonObjectSchema, handler: (params: unknown) => Promise<string>}> = {};
    const refused: Array<{name: string, reason: string}> = [];
    for (const definition of definitions) {
        const converted = toGbnfJsonSchema(definition.parameters);
        if (!converted.expressible)
            refused.push({name: definition.name, reason: converted.reason});
        else
            functions[definition.name] = {description: definition.description, params: converted.params, handler: handler(definition)};
    }
    return {functions, refused};
}

export type TurnFunctionsOptions = {
    readonly tools: TurnTools;
    readonly model: LlamaModel;
    readonly chatWrapper: ChatWrapper;
    /** The answer's signal: a call still running when it aborts is cancelled. */
    readonly signal: AbortSignal;
    readonly logger: Logger;
    /** Tools already logged as not offered: each is logged once per engine. */
    readonly loggedRefusals: Set<string>;
};

/**
 * The functions of one answer: each call goes to `tools.call` (which never throws; a handler that threw would abort
 * node-llama-cpp's whole generation, so anything thrown becomes a "failed" result), its result cut to
 * `tools.resultMaxTokens` with a note saying how much was cut. node-llama-cpp has no cap on call rounds, so the
 * cap is kept here: call `maxCalls + 1` is answered "no more tools" without running, and from then on the
 * call syntax's first token is banned ({@link tokenBias}) where it is a token of its own (Qwen's `<tool_call>`);
 * a model that calls once more anyway has its answer ended ({@link stopSignal}).
 */
export class TurnFunctions {
    readonly functions: ChatSessionModelFunctions;
    /** Aborts when the model went on calling after being told it may not: the answer ends there. */
    readonly stopSignal: AbortSignal;
    readonly #tools: TurnTools;
    readonly #model: LlamaModel;
    readonly #signal: AbortSignal;
    readonly #stop = new AbortController();
    /** The call syntax's first token when it is a special token (banned past the limit), else undefined. */
    readonly #callStartToken: Token | undefined;
    #calls = 0;

    constructor({tools, model, chatWrapper, signal, logger, loggedRefusals}: TurnFunctionsOptions) {
        this.#tools = tools;
        this.#model = model;
        this.#signal = signal;
        this.stopSignal = this.#stop.signal;
        const {functions, refused} = functionsOfTools(tools.definitions, (definition) => (params) => this.#call(definition, params));
        this.functions = functions;
        for (const {name, reason} of refused)
            if (!loggedRefusals.has(name)) {
                loggedRefusals.add(name);
                logger.warn(`The tool ${name} is not offered to the model: its input schema cannot be expressed for node-llama-cpp (${reason}).`);
            }
        const prefix = chatWrapper.settings.functions.call.prefix;
        const [first] = LlamaText(prefix).tokenize(model.tokenizer, "trimLeadingSpace");
        this.#callStartToken = first !== undefined && model.isSpecialToken(first) ? first : undefined;
    }

    /** Whether any tool is offered at all. */
    get offered(): boolean {
        return Object.keys(this.functions).length > 0;
    }

    /** Calls the model made in this answer, refused ones included. */
    get calls(): number {
        return this.#calls;
    }

    /** For node-llama-cpp's `tokenBias`, read at each generation round: past the limit, no call can start. */
    readonly tokenBias = (): TokenBias => {
        const bias = new TokenBias(this.#model.tokenizer);
        if (this.#calls > this.#tools.maxCalls && this.#callStartToken !== undefined)
            bias.set(this.#callStartToken, "never");
        return bias;
    };

    async #call(definition: ToolDefinition, params: unknown): Promise<string> {
        const number = ++this.#calls;
        if (number > this.#tools.maxCalls) {
            if (number > this.#tools.maxCalls + 1)
                this.#stop.abort();
            return limitOutcome(this.#tools.maxCalls).result;
        }
        let outcome: ToolCallOutcome;
        try {
            outcome = await this.#tools.call({id: `call_${number}`, name: definition.name, arguments: withoutOmittedNulls(definition.parameters, params)}, this.#signal);
        } catch (error) {
            outcome = {status: "failed", result: `The tool failed: ${errorMessage(error)}`};
        }
        return cutToTokens(this.#model, outcome.result, this.#tools.resultMaxTokens);
    }
}

/** The text cut to `maxTokens` tokens, with a note saying how much was cut. */
function cutToTokens(model: LlamaModel, text: string, maxTokens: number): string {
    const tokens = model.tokenize(text);
    if (tokens.length <= maxTokens)
        return text;
    return `${model.detokenize(tokens.slice(0, maxTokens))}${resultCutNote(tokens.length - maxTokens, tokens.length)}`;
}
