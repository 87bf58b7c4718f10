import PQueue from "p-queue";
import {GenerationFailedError, PromptTooLongError, SystemPromptTooLongError, UserFacingError} from "../errors.js";
import type {ConversationEngine, EngineStatus, TurnTools} from "../llm/types.js";
import type {Logger} from "../logger.js";
import {formatAnswerRecord} from "./AnswerRecord.js";
import type {AnswerOutcome, AnswerRecord} from "./AnswerRecord.js";
import {ChatStream} from "./ChatStream.js";
import type {FinalChatEvent, StopReason} from "./events.js";
import {formatPrompt} from "./formatPrompt.js";
import type {Personas} from "./Personas.js";
import {RecentSpeeds} from "./RecentSpeeds.js";
import type {PlaceNames} from "./systemPrompt.js";

export type ChatServiceOptions = {
    readonly engine: ConversationEngine;
    /** Prompts waiting or running in one channel; over it, `ask` answers busy. */
    readonly queuePerChannel: number;
    /** Prompts waiting or running in all channels together; over it, `ask` answers busy. */
    readonly queueTotal: number;
    readonly logger: Logger;
    /** The system prompt of each question (a channel's persona or SYSTEM_PROMPT, filled in); default: the engine's own. */
    readonly personas?: Personas;
};

/** Where a question is asked: whose persona applies, and the names its placeholders are filled in with. */
export type Place = {
    /** The channels whose persona applies, most specific first (a thread, then its parent). */
    readonly personaChannelIds: readonly string[];
    readonly names: PlaceNames;
};

export type AskRequest = {
    /** The conversation: a channel, thread or DM id. */
    readonly channelId: string;
    /** Shown to the model before the text, so it knows who said what. */
    readonly speaker?: string;
    /** Who asked (a Discord user id), for the log. */
    readonly userId?: string;
    readonly text: string;
    /** Stops the prompt, while it waits or while it is answered. */
    readonly signal?: AbortSignal;
    /** false: a reasoning model answers at once, without thinking. default true */
    readonly think?: boolean;
    /** default: the channel itself, with neutral names */
    readonly place?: Place;
    /** The tools the model may call in this answer (see `createTurnTools`); none when absent. */
    readonly tools?: TurnTools;
};

/** A question and its answer, to start a conversation from (a thread opened on an answer). */
export type EarlierTurn = {
    readonly speaker?: string;
    readonly text: string;
    readonly answer: string;
};

/** What `/status` shows of the chat layer and its engine. */
export type ChatStatus = EngineStatus & {
    /** Conversations that can generate at the same time. */
    readonly parallelism: number;
    /** Questions waiting or being answered. */
    readonly pending: number;
    /** The mean generation speed of the last answers; undefined before the first. */
    readonly recentSpeed: {readonly tokensPerSecond: number, readonly answers: number} | undefined;
};

export type BusyReason = "channel" | "global" | "closed";

/** What the answers are doing right now: how a stuck engine shows (src/monitoring). */
export type AnswerActivity = {
    /** Answers being generated. */
    readonly answering: number;
    /** Of those, the answers waiting on a tool call (a person's Allow or Deny, or the tool): the engine owes them nothing meanwhile. */
    readonly inToolCalls: number;
    /** performance.now() of the latest sign of life of an answer: started, a token written, a tool call ended, ended. */
    readonly lastProgressAt: number;
};

type Busy = {readonly accepted: false, readonly reason: BusyReason, readonly userMessage: string};

export type AskResult =
    /** position: 0 when the prompt starts at once, else its place in line (1 = next). */
    | {readonly accepted: true, readonly stream: ChatStream, readonly position: number}
    | Busy;

/**
 * A place held in a channel's queue while its question is still being put together (its files
 * downloaded): it counts against the queue limits like a waiting question, so a full queue is
 * known before any download. Use it once: ask, or release.
 */
export type Reservation = {
    /** Puts the question in the held place; refused only when the service closed meanwhile. */
    ask(request: Omit<AskRequest, "channelId">): AskResult;
    /** Gives the place back: the question will not be asked. */
    release(): void;
};

export type ReserveResult = {readonly accepted: true, readonly reservation: Reservation} | Busy;

type Ticket = {
    readonly channelId: string;
    /** Its place in its channel's order: answered after every entry with a lower number. */
    readonly entry: number;
    readonly prompt: string;
    readonly think: boolean;
    readonly place: Place;
    readonly tools: TurnTools | undefined;
    readonly stream: ChatStream;
    readonly controller: AbortController;
    /** Aborted when the prompt is stopped while waiting: takes it out of the line for a generation slot. */
    readonly leaveSlotLine: AbortController;
    state: "waiting" | "running" | "finished";
    /** The place in line last announced (0: none). */
    position: number;
    /** performance.now() when the prompt was accepted, and when its answer started. */
    readonly askedAt: number;
    startedAt?: number;
    /** performance.now() when its first token (thought or answer) was written. */
    firstTokenAt?: number;
    stopReason?: StopReason;
    removeSignalListener?: () => void;
};

/** A place held in a channel's line (see {@link ChatService.reserve}). */
type Hold = {
    /** Its place in its channel's order, which the question asked in it keeps. */
    readonly entry: number;
    /** Set when the channel is reset meanwhile: the question is stopped as soon as it is asked. */
    stopReason?: StopReason;
    /** Ends the hold and lets the channel's line go on: with the question asked in its place, or without (undefined). */
    readonly end: (ticket: Ticket | undefined) => void;
};

type Channel = {
    /** One prompt at a time per channel, in order. */
    readonly queue: PQueue;
    readonly tickets: Set<Ticket>;
    /** Places held for questions being put together, in the queue already. */
    readonly holds: Set<Hold>;
    /** The entry number the next ticket or hold gets. */
    nextEntry: number;
};

/**
 * The chat layer: one conversation per channel, prompts queued per channel and answered as streams
 * of events. Different channels generate at the same time, up to the engine's parallelism, which
 * is what lets node-llama-cpp decode them in one batch. Knows nothing of Discord or node-llama-cpp.
 */
export class ChatService {
    readonly #engine: ConversationEngine;
    readonly #queuePerChannel: number;
    readonly #queueTotal: number;
    readonly #logger: Logger;
    readonly #personas: Personas | undefined;
    readonly #recentSpeeds = new RecentSpeeds();
    readonly #channels = new Map<string, Channel>();
    /** Generation slots shared by all channels: one per sequence. */
    readonly #slots: PQueue;
    #ticketCount = 0;
    #answering = 0;
    #inToolCalls = 0;
    #lastProgressAt = performance.now();
    readonly #answerListeners = new Set<(record: AnswerRecord) => void>();
    /** Places held for questions being put together, in all channels. */
    #reservedCount = 0;
    #closed = false;

    constructor({engine, queuePerChannel, queueTotal, logger, personas}: ChatServiceOptions) {
        this.#engine = engine;
        this.#personas = personas;
        this.#queuePerChannel = queuePerChannel;
        this.#queueTotal = queueTotal;
        this.#logger = logger;
        this.#slots = new PQueue({concurrency: engine.parallelism});
    }

    /** Prompts waiting or running, in all channels. */
    get pendingCount(): number {
        return this.#ticketCount;
    }

    /** What the answers are doing right now. */
    get activity(): AnswerActivity {
        return {answering: this.#answering, inToolCalls: this.#inToolCalls, lastProgressAt: this.#lastProgressAt};
    }

    /**
     * Calls `listener` once for every question that ends (answered, stopped, failed or refused), with
     * the fields its log line has. Returns the function that stops it.
     */
    onAnswer(listener: (record: AnswerRecord) => void): () => void {
        this.#answerListeners.add(listener);
        return () => this.#answerListeners.delete(listener);
    }

    /**
     * Queues a prompt in its channel. Answers at once: either a stream of the prompt's events, or
     * busy (queue limits, or shutting down) with a message for the user.
     */
    ask(request: AskRequest): AskResult {
        const refusal = this.#refusal(request.channelId);
        if (refusal !== undefined)
            return this.#refused(request.channelId, refusal);

        const channel = this.#channel(request.channelId);
        const ticket = this.#admit(channel, channel.nextEntry++, request);
        void channel.queue.add(() => this.#run(ticket));
        return {accepted: true, stream: ticket.stream, position: ticket.position};
    }

    /**
     * Holds a place in a channel's line for a question still being put together, or answers busy
     * (queue limits, or shutting down) with a message for the user, as `ask` would. The place is
     * kept in order: questions asked in the channel after it are answered after it.
     */
    reserve(channelId: string): ReserveResult {
        const refusal = this.#refusal(channelId);
        if (refusal !== undefined)
            return this.#refused(channelId, refusal);

        const channel = this.#channel(channelId);
        let settle: (ticket: Ticket | undefined) => void = () => {};
        const asked = new Promise<Ticket | undefined>((resolve) => {
            settle = resolve;
        });
        const hold: Hold = {
            entry: channel.nextEntry++,
            end: (ticket) => {
                if (channel.holds.delete(hold))
                    this.#reservedCount--;
                settle(ticket);
            }
        };
        channel.holds.add(hold);
        this.#reservedCount++;
        void channel.queue.add(async () => {
            const ticket = await asked;
            if (ticket !== undefined)
                await this.#run(ticket);
        });
        let used = false;
        return {
            accepted: true,
            reservation: {
                ask: (request) => {
                    if (used)
                        throw new Error("This reservation was already used.");
                    used = true;
                    if (this.#closed) {
                        hold.end(undefined);
                        return this.#refused(channelId, closedBusy());
                    }
                    const ticket = this.#admit(channel, hold.entry, {channelId, ...request});
                    hold.end(ticket);
                    if (hold.stopReason !== undefined)
                        this.#stop(ticket, hold.stopReason);
                    return {accepted: true, stream: ticket.stream, position: ticket.position};
                },
                release: () => {
                    used = true;
                    hold.end(undefined);
                    this.#announceMovedUp(channel);
                }
            }
        };
    }

    /** Why a new question in the channel is refused (queue limits, or shutting down); undefined: it is taken. */
    #refusal(channelId: string): Busy | undefined {
        if (this.#closed)
            return closedBusy();

        const channel = this.#channels.get(channelId);
        const waitingInChannel = channel === undefined ? 0 : channel.tickets.size + channel.holds.size;
        if (waitingInChannel >= this.#queuePerChannel)
            return busy("channel", `This channel already has ${waitingInChannel} questions waiting for me. Please wait for them to be answered.`);
        if (this.#ticketCount + this.#reservedCount >= this.#queueTotal)
            return busy("global", "I am busy answering lots of questions right now. Please try again in a minute.");
        return undefined;
    }

    /** Makes an admitted prompt a ticket in its channel's line; its place in the channel's queue is already taken. */
    #admit(channel: Channel, entry: number, {channelId, speaker, userId, text, signal, think = true, place = neutralPlace(channelId), tools}: AskRequest): Ticket {
        const ticket: Ticket = {
            channelId,
            entry,
            prompt: formatPrompt(speaker, text),
            think,
            place,
            tools,
            stream: new ChatStream(),
            controller: new AbortController(),
            leaveSlotLine: new AbortController(),
            state: "waiting",
            position: this.#placeInLine(channel, entry),
            askedAt: performance.now()
        };

        const {position} = ticket;
        // never the text at info level: what people say is theirs
        this.#logger.info(`Question in channel ${channelId}${userId === undefined ? "" : ` from user ${userId}`}: ` +
            (position === 0 ? "answered at once." : `#${position} in line.`));
        channel.tickets.add(ticket);
        this.#ticketCount++;
        if (position > 0)
            ticket.stream.push({type: "queued", position});

        if (signal != null) {
            const onAbort = () => this.#stop(ticket, "user");
            signal.addEventListener("abort", onAbort, {once: true});
            ticket.removeSignalListener = () => signal.removeEventListener("abort", onAbort);
            if (signal.aborted)
                onAbort();
        }
        return ticket;
    }

    /**
     * Clears a channel's conversation: its running answer is stopped and its waiting prompts are
     * dropped (each stream ends with `stopped`, reason "reset"), then the history is forgotten.
     * @returns how many prompts were stopped or dropped
     */
    async reset(channelId: string): Promise<number> {
        const channel = this.#channel(channelId);
        const tickets = [...channel.tickets];
        for (const ticket of tickets)
            this.#stop(ticket, "reset");
        const holds = [...channel.holds];
        for (const hold of holds)
            hold.stopReason = "reset";

        await channel.queue.add(() => this.#engine.reset(channelId));
        return tickets.length + holds.length;
    }

    /**
     * Starts a channel's conversation from earlier turns (a thread opened on an answer), replacing
     * any it had; after the channel's running and waiting prompts.
     */
    async startConversation(channelId: string, turns: readonly EarlierTurn[]): Promise<void> {
        await this.#channel(channelId).queue.add(() => this.#engine.startConversation(
            channelId,
            turns.map(({speaker, text, answer}) => ({prompt: formatPrompt(speaker, text), answer}))
        ));
    }

    async status(): Promise<ChatStatus> {
        return {
            ...await this.#engine.status(),
            parallelism: this.#engine.parallelism,
            pending: this.#ticketCount,
            recentSpeed: this.#recentSpeeds.average
        };
    }

    /** Takes no new prompts, stops every running and waiting one (reason "shutdown"), and waits for them to end. */
    async close(): Promise<void> {
        this.#closed = true;
        for (const channel of this.#channels.values()) {
            for (const ticket of channel.tickets)
                this.#stop(ticket, "shutdown");
            // a question still being put together is not waited for
            for (const hold of channel.holds)
                hold.end(undefined);
        }

        await Promise.all([...this.#channels.values()].map((channel) => channel.queue.onIdle()));
    }

    #channel(channelId: string): Channel {
        const existing = this.#channels.get(channelId);
        if (existing != null)
            return existing;

        const channel: Channel = {queue: new PQueue({concurrency: 1}), tickets: new Set(), holds: new Set(), nextEntry: 0};
        channel.queue.on("idle", () => {
            if (channel.tickets.size === 0 && this.#channels.get(channelId) === channel)
                this.#channels.delete(channelId);
        });
        this.#channels.set(channelId, channel);
        return channel;
    }

    /** 0 when the prompt can start right away; else its place in line (1 = next). */
    #placeInLine(channel: Channel, entry: number): number {
        const ahead = aheadOf(channel, entry);
        if (ahead > 0)
            return ahead;

        if (this.#slots.pending >= this.#slots.concurrency)
            return this.#slots.size + 1;

        return 0;
    }

    async #run(ticket: Ticket): Promise<void> {
        // a prompt stopped while waiting never takes a place in the line for a slot, so a reset is
        // not kept waiting for other channels' answers
        if (ticket.state !== "waiting")
            return;
        try {
            await this.#slots.add(() => this.#generate(ticket), {signal: ticket.leaveSlotLine.signal});
        } catch (error) {
            if (!ticket.leaveSlotLine.signal.aborted)
                throw error;
        } finally {
            this.#finish(ticket);
        }
    }

    /** The answer's tools, with each call counted as a wait the engine does not owe (for {@link activity}). */
    #timedTools(tools: TurnTools): TurnTools {
        return {
            ...tools,
            call: async (request, signal) => {
                this.#inToolCalls++;
                try {
                    return await tools.call(request, signal);
                } finally {
                    this.#inToolCalls--;
                    this.#lastProgressAt = performance.now();
                }
            }
        };
    }

    async #generate(ticket: Ticket): Promise<void> {
        if (ticket.state !== "waiting")
            return;

        ticket.state = "running";
        ticket.startedAt = performance.now();
        this.#answering++;
        this.#lastProgressAt = ticket.startedAt;
        const {stream} = ticket;
        stream.push({type: "started"});
        const wrote = () => {
            this.#lastProgressAt = performance.now();
            ticket.firstTokenAt ??= this.#lastProgressAt;
        };
        try {
            const {personaChannelIds, names} = ticket.place;
            const result = await this.#engine.generate({
                conversationId: ticket.channelId,
                prompt: ticket.prompt,
                systemPrompt: await this.#personas?.systemPrompt(personaChannelIds, names),
                signal: ticket.controller.signal,
                think: ticket.think,
                onThought: (text) => {
                    wrote();
                    stream.push({type: "thinking", text});
                },
                onText: (text) => {
                    wrote();
                    stream.push({type: "text", text});
                },
                tools: ticket.tools && this.#timedTools(ticket.tools)
            });

            this.#answering--;
            const record = this.#recordAnswer(ticket, {tokens: result.tokens, promptTokens: result.evaluatedTokens, engineDurationMs: result.durationMs, ...(result.stopReason === "abort"
                ? {outcome: "stopped", ending: `stopped (${ticket.stopReason ?? "user"})`}
                : result.stopReason === "maxTokens" ? {outcome: "cut", ending: "cut at MAX_TOKENS"} : {outcome: "done", ending: "done"})});
            if (result.stopReason === "abort")
                this.#finish(ticket, {type: "stopped", text: result.text, reason: ticket.stopReason ?? "user"});
            else {
                const tokensPerSecond = record.tokensPerSecond ?? 0;
                this.#recentSpeeds.add(tokensPerSecond);
                this.#finish(ticket, {
                    type: "done",
                    text: result.text,
                    tokens: result.tokens,
                    thoughtTokens: result.thoughtTokens,
                    tokensPerSecond,
                    truncated: result.stopReason === "maxTokens"
                });
            }
        } catch (error) {
            this.#answering--;
            const userError = error instanceof UserFacingError ? error : new GenerationFailedError(error);
            const refused = userError instanceof PromptTooLongError || userError instanceof SystemPromptTooLongError;
            this.#recordAnswer(ticket, {outcome: refused ? "refused" : "error", ending: `${refused ? "refused" : "failed"} (${userError.code})`, tokens: 0, promptTokens: 0});
            if (userError instanceof GenerationFailedError)
                this.#logger.error(`Answering in channel ${ticket.channelId} failed.`, userError.cause ?? userError);
            this.#finish(ticket, {type: "error", error: userError});
        }
    }

    #stop(ticket: Ticket, reason: StopReason): void {
        if (ticket.state === "finished")
            return;

        ticket.stopReason ??= reason;
        if (ticket.state === "running") {
            ticket.controller.abort();
            return;
        }

        ticket.leaveSlotLine.abort();
        this.#recordAnswer(ticket, {outcome: "stopped", ending: `dropped while waiting (${reason})`, tokens: 0, promptTokens: 0});
        this.#finish(ticket, {type: "stopped", text: "", reason});
    }

    /** One line per answer for operators, and the same record to every {@link onAnswer} listener. Never its text. */
    #recordAnswer(ticket: Ticket, {outcome, ending, tokens, promptTokens, engineDurationMs}: {
        outcome: AnswerOutcome, ending: string, tokens: number, promptTokens: number,
        /** The engine's own measure of the answer's time (prompt reading included), when it has one. */
        engineDurationMs?: number
    }): AnswerRecord {
        const now = performance.now();
        this.#lastProgressAt = now;
        const durationMs = engineDurationMs ?? (ticket.startedAt === undefined ? 0 : now - ticket.startedAt);
        return this.#publish({
            channelId: ticket.channelId,
            outcome,
            ending,
            tokens,
            promptTokens,
            waitedMs: (ticket.startedAt ?? now) - ticket.askedAt,
            timeToFirstTokenMs: ticket.firstTokenAt === undefined ? undefined : ticket.firstTokenAt - ticket.askedAt,
            durationMs,
            tokensPerSecond: tokens > 0 && durationMs > 0 ? tokens / (durationMs / 1000) : undefined
        });
    }

    /** A question turned away before it was answered: recorded like an answer (outcome "refused"). */
    #refused(channelId: string, busy: Busy): Busy {
        this.#publish({
            channelId, outcome: "refused", ending: `refused (${busy.reason})`, tokens: 0, promptTokens: 0,
            waitedMs: 0, timeToFirstTokenMs: undefined, durationMs: 0, tokensPerSecond: undefined
        });
        return busy;
    }

    #publish(record: AnswerRecord): AnswerRecord {
        this.#logger.info(formatAnswerRecord(record));
        for (const listener of this.#answerListeners)
            listener(record);
        return record;
    }

    /** Frees the ticket's place first, then ends its stream, so a caller that reacts to the end can ask again at once. */
    #finish(ticket: Ticket, finalEvent?: FinalChatEvent): void {
        if (ticket.state === "finished")
            return;

        ticket.state = "finished";
        ticket.removeSignalListener?.();
        this.#ticketCount--;
        const channel = this.#channels.get(ticket.channelId);
        channel?.tickets.delete(ticket);
        ticket.stream.push(finalEvent ?? {type: "stopped", text: "", reason: ticket.stopReason ?? "shutdown"});
        if (channel != null)
            this.#announceMovedUp(channel);
    }

    /** Tells the prompts still waiting in a channel their new places in line. */
    #announceMovedUp(channel: Channel): void {
        for (const waiting of channel.tickets) {
            const ahead = aheadOf(channel, waiting.entry);
            if (waiting.state === "waiting" && ahead > 0 && waiting.position !== ahead) {
                waiting.position = ahead;
                waiting.stream.push({type: "queued", position: ahead});
            }
        }
    }
}

/** A question asked without saying where (the terminal chat): its channel's persona, neutral names. */
function neutralPlace(channelId: string): Place {
    return {personaChannelIds: [channelId], names: {server: "this chat", channel: "this chat", bot: "the assistant"}};
}

/** The questions before an entry of a channel's order, waiting or answered, places held included. */
function aheadOf(channel: Channel, entry: number): number {
    return [...channel.tickets, ...channel.holds].filter((earlier) => earlier.entry < entry).length;
}

function busy(reason: BusyReason, userMessage: string): Busy {
    return {accepted: false, reason, userMessage};
}

function closedBusy(): Busy {
    return busy("closed", "I am shutting down and not taking new questions. Please ask again in a moment.");
}
