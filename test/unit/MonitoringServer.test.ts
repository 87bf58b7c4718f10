import {afterEach, describe, expect, it} from "vitest";
import {MonitoringServer, MonitoringStartError} from "../../src/monitoring/MonitoringServer.js";
import type {MonitoringEndpoints} from "../../src/monitoring/MonitoringServer.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";

const servers: MonitoringServer[] = [];
afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
});

const endpoints: MonitoringEndpoints = {
    health: async () => ({status: 503, body: {status: "unavailable", reasons: ["connecting to the Discord gateway"]}}),
    metrics: async () => ({contentType: "text/plain; version=0.0.4; charset=utf-8", text: "discord_llm_answers_total{outcome=\"done\"} 1\n"})
};

async function start(port = 0): Promise<MonitoringServer> {
    const server = await MonitoringServer.start({host: "127.0.0.1", port, endpoints, logger: createMemoryLogger()});
    servers.push(server);
    return server;
}

describe("the metrics server", () => {
    it("given GET /healthz and /metrics, then the health's status and JSON body, and the metrics' text; anything else a 404", async () => {
        const {url} = await start();
        const health = await fetch(`${url}/healthz`);
        expect(health.status).toBe(503);
        expect(await health.json()).toEqual({status: "unavailable", reasons: ["connecting to the Discord gateway"]});
        const metrics = await fetch(`${url}/metrics`);
        expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
        expect(await metrics.text()).toContain("discord_llm_answers_total");
        for (const [path, method] of [["/", "GET"], ["/metrics/x", "GET"], ["/healthz", "POST"], ["/status", "GET"]] as const)
            expect((await fetch(`${url}${path}`, {method})).status).toBe(404);
    });

    it("given a port already taken, then start-up stops with one line naming METRICS_PORT", async () => {
        const taken = await start();
        const port = Number(new URL(taken.url).port);
        const refused = await start(port).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(MonitoringStartError);
        expect((refused as MonitoringStartError).userMessage).toMatch(/^The metrics server cannot listen on 127\.0\.0\.1:\d+ \(.*EADDRINUSE.*\): choose a free METRICS_PORT/);
    });
});
