import diagnosticsChannel from "node:diagnostics_channel";

/** A conversation's evaluated state written to its file, or loaded from it, and the file's size. */
export type StateFileEvent = {readonly direction: "saved" | "loaded", readonly bytes: number};

/**
 * Every state file {@link SequenceStateStore} saves or loads, for the metrics (src/monitoring). A Node.js
 * diagnostics channel: nothing to pass down through the runtime to reach the store, and nothing done
 * while nobody listens. Imports nothing of node-llama-cpp, so the monitoring can listen in any process.
 */
const channel = diagnosticsChannel.channel("llama-discord-bot:state-file");

export function publishStateFile(event: StateFileEvent): void {
    if (channel.hasSubscribers)
        channel.publish(event);
}

/** Calls `listener` for every state file saved or loaded from now on; returns the function that stops it. */
export function onStateFile(listener: (event: StateFileEvent) => void): () => void {
    const subscriber = (message: unknown) => listener(message as StateFileEvent);
    channel.subscribe(subscriber);
    return () => channel.unsubscribe(subscriber);
}
