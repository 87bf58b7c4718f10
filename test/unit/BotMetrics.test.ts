import {afterEach, describe, expect, it} from "vitest";
import {ChatService} from "../../src/chat/ChatService.js";
import type {ChatStream} from "../../src/chat/ChatStream.js";
import {formatStatus} from "../../src/discord/commands/formatStatus.js";
import {PromptTooLongError} from "../../src/errors.js";
import {publishStateFile} from "../../src/llm/local/stateFileEvents.js";
import {BotMetrics} from "../../src/monitoring/BotMetrics.js";
import {BotMonitor} from "../../src/monitoring/BotMonitor.js";
import {FakeEngine} from "../fixtures/fakeEngine.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** The value of one series in Prometheus's text format, e.g. `discord_llm_answers_total{outcome="done"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
    const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function drain(stream: ChatStream): Promise<void> {
    for await (const _event of stream) {
        // to the end
    }
}

function accepted(result: ReturnType<ChatService["ask"]>): ChatStream {
    if (!result.accepted)
        throw new Error(`refused: ${result.reason}`);
    return result.stream;
}

function monitoredChat() {
    const engine = new FakeEngine(2);
    const chat = new ChatService({engine, queuePerChannel: 2, queueTotal: 10, logger: createMemoryLogger()});
    const monitor = new BotMonitor({gatewayGraceMs: 60_000});
    closers.push(() => monitor.close());
    monitor.watchRuntime({chat, engineHealth: async () => ({problem: undefined, lastDecodeAt: undefined})});
    return {engine, chat, monitor, metrics: async () => (await monitor.metrics()).text};
}

describe("the metrics (/metrics)", () => {
    it("given questions that end in every way, then each outcome, the tokens and the times are counted, by Prometheus's conventions", async () => {
        const {engine, chat, metrics} = monitoredChat();
        const done = accepted(chat.ask({channelId: "1", text: "a"}));
        const generation = await engine.started(1);
        generation.think("hmm");
        generation.write("Hello");
        generation.write("!");
        generation.finish();
        await drain(done);

        const cut = accepted(chat.ask({channelId: "1", text: "b"}));
        (await engine.started(2)).finish("maxTokens");
        await drain(cut);

        const failed = accepted(chat.ask({channelId: "1", text: "c"}));
        (await engine.started(3)).fail(new Error("boom"));
        await drain(failed);

        const tooLong = accepted(chat.ask({channelId: "1", text: "d"}));
        (await engine.started(4)).fail(new PromptTooLongError(5000, 2000));
        await drain(tooLong);

        const controller = new AbortController();
        const stopped = accepted(chat.ask({channelId: "1", text: "e", signal: controller.signal}));
        await engine.started(5);
        controller.abort();
        await drain(stopped);

        // the channel's line is full: the third question is refused
        const running = accepted(chat.ask({channelId: "2", text: "f"}));
        accepted(chat.ask({channelId: "2", text: "g"}));
        expect(chat.ask({channelId: "2", text: "h"}).accepted).toBe(false);

        const text = await metrics();
        expect(sample(text, 'discord_llm_answers_total{outcome="done"}')).toBe(1);
        expect(sample(text, 'discord_llm_answers_total{outcome="cut"}')).toBe(1);
        expect(sample(text, 'discord_llm_answers_total{outcome="error"}')).toBe(1);
        expect(sample(text, 'discord_llm_answers_total{outcome="refused"}')).toBe(2);
        expect(sample(text, 'discord_llm_answers_total{outcome="stopped"}')).toBe(1);
        // 3 tokens (a thought and two pieces of answer), and the FakeEngine's 10 prompt tokens for each of the 3 that returned
        expect(sample(text, "discord_llm_generated_tokens_total")).toBe(3);
        expect(sample(text, "discord_llm_prompt_tokens_total")).toBe(30);
        expect(sample(text, "discord_llm_time_to_first_token_seconds_count")).toBe(1);
        // every answer that started: not the refused one that never did
        expect(sample(text, "discord_llm_answer_duration_seconds_count")).toBe(5);
        expect(text).toContain("# TYPE discord_llm_answer_duration_seconds histogram");
        expect(text).toContain("# TYPE discord_llm_answers_total counter");
        // Node.js's default process metrics are there too
        expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
        await chat.close();
        await drain(running);
    });

    it("given /status and /metrics read at the same moment, then they show the same numbers (one source: the chat service's status)", async () => {
        const {engine, chat, metrics} = monitoredChat();
        const first = accepted(chat.ask({channelId: "1", text: "a"}));
        const generation = await engine.started(1);
        generation.write("a");
        generation.write("b");
        generation.finish();
        await drain(first);
        accepted(chat.ask({channelId: "1", text: "b"}));
        accepted(chat.ask({channelId: "3", text: "c"}));
        accepted(chat.ask({channelId: "3", text: "d"}));
        await engine.started(3);

        const status = await chat.status();
        const shown = formatStatus(status, {uptimeSeconds: 1, rssBytes: 1, version: "test"});
        const text = await metrics();
        expect(shown).toContain(`Sequences in use: ${sample(text, "discord_llm_sequences_in_use")} of ${sample(text, "discord_llm_sequences")}`);
        expect(shown).toContain(`Questions waiting or being answered: ${sample(text, "discord_llm_questions_pending")}`);
        expect(shown).toContain(`Conversations known: ${sample(text, "discord_llm_conversations")}`);
        expect(shown).toContain(`Speed: ${sample(text, "discord_llm_tokens_per_second")?.toFixed(1)} tokens/s`);
        expect(sample(text, "discord_llm_questions_pending")).toBe(3);
        expect(sample(text, "discord_llm_sequences_in_use")).toBe(2);
        await chat.close();
    });

    it("given tool calls ending every way (recordToolCall), then they are counted by outcome, each outcome shown from 0", async () => {
        const metrics = new BotMetrics();
        closers.push(() => metrics.close());
        expect(sample(await metrics.registry.metrics(), 'discord_llm_tool_calls_total{outcome="timeout"}')).toBe(0);
        metrics.recordToolCall("done");
        metrics.recordToolCall("done");
        metrics.recordToolCall("denied");
        metrics.recordToolCall("limit");
        const text = await metrics.registry.metrics();
        expect(sample(text, 'discord_llm_tool_calls_total{outcome="done"}')).toBe(2);
        expect(sample(text, 'discord_llm_tool_calls_total{outcome="denied"}')).toBe(1);
        expect(sample(text, 'discord_llm_tool_calls_total{outcome="limit"}')).toBe(1);
        expect(sample(text, 'discord_llm_tool_calls_total{outcome="failed"}')).toBe(0);
    });

    it("given state files saved and loaded, and Discord's responses and 429s, then they are counted with their bytes and statuses", async () => {
        const metrics = new BotMetrics();
        closers.push(() => metrics.close());
        publishStateFile({direction: "saved", bytes: 1000});
        publishStateFile({direction: "saved", bytes: 500});
        publishStateFile({direction: "loaded", bytes: 1000});
        metrics.recordDiscordResponse(200, null);
        metrics.recordDiscordResponse(200, null);
        metrics.recordDiscordResponse(429, "shared");
        metrics.recordRateLimitWait(false);
        metrics.recordGatewayReconnect();
        const text = await metrics.registry.metrics();
        expect(sample(text, 'discord_llm_state_files_total{direction="saved"}')).toBe(2);
        expect(sample(text, 'discord_llm_state_file_bytes_total{direction="saved"}')).toBe(1500);
        expect(sample(text, 'discord_llm_state_files_total{direction="loaded"}')).toBe(1);
        expect(sample(text, 'discord_llm_state_file_bytes_total{direction="loaded"}')).toBe(1000);
        expect(sample(text, 'discord_llm_discord_responses_total{status="200"}')).toBe(2);
        expect(sample(text, 'discord_llm_discord_responses_total{status="429"}')).toBe(1);
        expect(sample(text, 'discord_llm_discord_rate_limited_total{scope="shared"}')).toBe(1);
        expect(sample(text, 'discord_llm_discord_rate_limit_waits_total{global="false"}')).toBe(1);
        expect(sample(text, "discord_llm_gateway_reconnects_total")).toBe(1);

        // closed: it no longer counts (the channel is process-wide)
        metrics.close();
        publishStateFile({direction: "saved", bytes: 1});
        expect(sample(await metrics.registry.metrics(), 'discord_llm_state_files_total{direction="saved"}')).toBe(2);
    });
});
