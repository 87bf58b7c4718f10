/** The gateway as `/healthz` sees it (GatewayWatch.ts follows it). */
export type GatewayState =
    /** not ready yet since start-up */
    | {readonly state: "connecting"}
    | {readonly state: "connected"}
    /** lost since `since` (performance.now()), being reconnected, or (`reconnecting: false`) given up */
    | {readonly state: "down", readonly since: number, readonly reconnecting: boolean};

/** The engine as `/healthz` sees it. */
export type EngineState =
    /** the model loading, the inference server being reached */
    | {readonly state: "starting"}
    | {
        readonly state: "started",
        /** Why it cannot answer now; undefined when it can. */
        readonly problem: string | undefined,
        /** performance.now() of its latest decode, when it watches them; else undefined. */
        readonly lastDecodeAt: number | undefined
    };

export type HealthInput = {
    /** performance.now() */
    readonly now: number;
    readonly gateway: GatewayState;
    readonly engine: EngineState;
    /** Answers being generated, and their latest sign of life (ChatService's activity); undefined before the chat layer runs. */
    readonly answers: {readonly answering: number, readonly inToolCalls?: number, readonly lastProgressAt: number} | undefined;
};

export type HealthRules = {
    /** HEALTH_GATEWAY_GRACE_MS: a gateway lost for longer than this is unhealthy; shorter is a reconnect in progress. */
    readonly gatewayGraceMs: number;
    /** Answers being generated with no decode and no token for this long: the decode loop is stuck. */
    readonly decodeStallMs: number;
};

/** The minute: a decode loop quiet this long while answers wait is stuck (the lockstep's own watchdog acts at 30 s). */
export const defaultDecodeStallMs = 60_000;

/** What `/healthz` answers: its HTTP status and its JSON body. */
export type HealthReport = {
    readonly status: 200 | 503;
    readonly body: {
        readonly status: "ok" | "unavailable";
        readonly gateway: "connecting" | "connected" | "reconnecting" | "down";
        readonly engine: "starting" | "ready" | "unreachable" | "stuck";
        /** Answers being generated. */
        readonly answering: number;
        /** Why it is unavailable, one sentence each; empty when ok. */
        readonly reasons: readonly string[];
    };
};

/**
 * Whether the bot is healthy: the gateway connected (or lost for less than the grace, a reconnect in
 * progress) and the engine answering (started, reachable, and not silent for `decodeStallMs` while
 * answers are generated). Pure.
 */
export function healthOf({now, gateway, engine, answers}: HealthInput, {gatewayGraceMs, decodeStallMs}: HealthRules): HealthReport {
    const reasons: string[] = [];

    let gatewayState: HealthReport["body"]["gateway"];
    if (gateway.state === "connecting") {
        gatewayState = "connecting";
        reasons.push("connecting to the Discord gateway");
    } else if (gateway.state === "connected")
        gatewayState = "connected";
    else {
        const downMs = now - gateway.since;
        if (!gateway.reconnecting) {
            gatewayState = "down";
            reasons.push("the Discord gateway closed the connection for good (see the log)");
        } else if (downMs > gatewayGraceMs) {
            gatewayState = "down";
            reasons.push(`the Discord gateway has been down for ${seconds(downMs)} s`);
        } else
            gatewayState = "reconnecting";
    }

    let engineState: HealthReport["body"]["engine"];
    const answering = answers?.answering ?? 0;
    if (engine.state === "starting") {
        engineState = "starting";
        reasons.push("the engine is starting (the model loading, or the inference server being reached)");
    } else if (engine.problem !== undefined) {
        engineState = "unreachable";
        reasons.push(`the engine cannot answer: ${engine.problem}`);
    } else {
        const lastSign = Math.max(answers?.lastProgressAt ?? -Infinity, engine.lastDecodeAt ?? -Infinity);
        // an answer waiting on a tool call (a person's Allow or Deny, or the tool itself) owes the engine nothing meanwhile
        const waiting = answering - (answers?.inToolCalls ?? 0);
        if (waiting > 0 && now - lastSign > decodeStallMs) {
            engineState = "stuck";
            reasons.push(`no decode for ${seconds(now - lastSign)} s while ${waiting} ${waiting === 1 ? "answer waits" : "answers wait"}`);
        } else
            engineState = "ready";
    }

    const ok = reasons.length === 0;
    return {status: ok ? 200 : 503, body: {status: ok ? "ok" : "unavailable", gateway: gatewayState, engine: engineState, answering, reasons}};
}

function seconds(ms: number): string {
    return (ms / 1000).toFixed(0);
}
