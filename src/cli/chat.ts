/**
 * `npm run chat`: talk to the model in a terminal through the same chat layer as the bot, one
 * conversation ("terminal", saved like a channel's). Reads lines from standard input, so it can be
 * piped: `echo "hello" | npm run chat` answers and exits at the end of the input.
 * `/reset` clears the conversation; Ctrl+C stops a running answer, or quits when none runs.
 */
import readline from "node:readline";
import type {ChatService} from "../chat/ChatService.js";
import {UserFacingError} from "../errors.js";
import {startChatRuntime} from "../runtime/startChatRuntime.js";
import {startUp} from "../startUp.js";

const conversationId = "terminal";

async function main(): Promise<number> {
    // the terminal shows each answer and its numbers itself: the bot's per-question info lines would only repeat them
    const {config, logger} = startUp({requireToken: false, infoLogged: false});
    const runtime = await startChatRuntime(config, logger);
    const saved = await runtime.store.load(conversationId);
    const savedTurns = saved?.filter((item) => item.type === "user").length ?? 0;
    process.stderr.write(`${runtime.describe().join("\n")}\n` +
        (savedTurns > 0
            ? `Continuing the saved conversation (${savedTurns} ${savedTurns === 1 ? "message" : "messages"} so far); /reset starts afresh.\n`
            : "") +
        "Type a message; /reset clears the conversation; Ctrl+C stops an answer or quits.\n");

    const interactive = process.stdin.isTTY === true;
    const lines = readline.createInterface({input: process.stdin, output: process.stdout, terminal: interactive});
    let stopAnswer: (() => void) | undefined;
    const onInterrupt = () => {
        if (stopAnswer != null)
            stopAnswer();
        else
            lines.close();
    };
    lines.on("SIGINT", onInterrupt);
    process.on("SIGINT", onInterrupt);

    const showPrompt = () => {
        if (interactive)
            lines.prompt();
    };
    showPrompt();
    for await (const line of lines) {
        const text = line.trim();
        if (text === "/reset") {
            await runtime.chat.reset(conversationId);
            process.stdout.write("(conversation cleared)\n");
        } else if (text === "/exit" || text === "/quit")
            break;
        else if (text !== "") {
            const controller = new AbortController();
            stopAnswer = () => controller.abort();
            await answer(runtime.chat, text, controller.signal);
            stopAnswer = undefined;
        }
        showPrompt();
    }

    process.off("SIGINT", onInterrupt);
    await runtime.close();
    return 0;
}

async function answer(chat: ChatService, text: string, signal: AbortSignal): Promise<void> {
    const result = chat.ask({channelId: conversationId, text, signal});
    if (!result.accepted) {
        process.stdout.write(`${result.userMessage}\n`);
        return;
    }

    let thinking = false;
    for await (const event of result.stream) {
        switch (event.type) {
            case "thinking":
                if (!thinking)
                    process.stderr.write("(thinking…)\n");
                thinking = true;
                break;
            case "text":
                process.stdout.write(event.text);
                break;
            case "done":
                process.stdout.write(event.truncated ? "\n(cut at MAX_TOKENS)\n" : "\n");
                process.stderr.write(`(${event.tokens} tokens, ${event.tokensPerSecond.toFixed(1)} tokens/s)\n`);
                break;
            case "stopped":
                process.stdout.write("\n(stopped)\n");
                break;
            case "error":
                process.stdout.write(`\n${event.error.userMessage}\n`);
                break;
            case "queued":
            case "started":
                break;
        }
    }
}

main().then(
    (code) => process.exit(code),
    (error: unknown) => {
        if (error instanceof UserFacingError)
            process.stderr.write(`${error.userMessage}\n`);
        else
            process.stderr.write(`The terminal chat failed: ${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
    }
);
