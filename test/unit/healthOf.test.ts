import {describe, expect, it} from "vitest";
import {healthOf} from "../../src/monitoring/healthOf.js";
import type {HealthInput} from "../../src/monitoring/healthOf.js";

const rules = {gatewayGraceMs: 60_000, decodeStallMs: 60_000};
const now = 1_000_000;
const healthy: HealthInput = {
    now,
    gateway: {state: "connected"},
    engine: {state: "started", problem: undefined, lastDecodeAt: undefined},
    answers: {answering: 0, lastProgressAt: now - 3_600_000}
};

describe("healthOf (/healthz)", () => {
    it("given the gateway connected and the engine answering, then 200 ok", () => {
        expect(healthOf(healthy, rules)).toEqual({
            status: 200,
            body: {status: "ok", gateway: "connected", engine: "ready", answering: 0, reasons: []}
        });
    });

    it("given start-up (the gateway connecting, the model loading), then 503 with both reasons", () => {
        const report = healthOf({now, gateway: {state: "connecting"}, engine: {state: "starting"}, answers: undefined}, rules);
        expect(report.status).toBe(503);
        expect(report.body).toMatchObject({status: "unavailable", gateway: "connecting", engine: "starting"});
        expect(report.body.reasons).toEqual([
            "connecting to the Discord gateway",
            "the engine is starting (the model loading, or the inference server being reached)"
        ]);
    });

    it("given the gateway lost for less than the grace, then still 200 (reconnecting); for more, 503 with how long", () => {
        const lost = (forMs: number): HealthInput => ({...healthy, gateway: {state: "down", since: now - forMs, reconnecting: true}});
        expect(healthOf(lost(59_000), rules)).toMatchObject({status: 200, body: {gateway: "reconnecting", reasons: []}});
        expect(healthOf(lost(61_000), rules)).toMatchObject({
            status: 503,
            body: {gateway: "down", reasons: ["the Discord gateway has been down for 61 s"]}
        });
        expect(healthOf(lost(1500), {...rules, gatewayGraceMs: 1000}).status).toBe(503);
    });

    it("given the gateway closed for good (not reconnecting), then 503 at once", () => {
        const report = healthOf({...healthy, gateway: {state: "down", since: now - 10, reconnecting: false}}, rules);
        expect(report).toMatchObject({status: 503, body: {gateway: "down", reasons: [expect.stringMatching(/closed the connection for good/)]}});
    });

    it("given an engine that cannot answer (an unreachable inference server), then 503 with its reason", () => {
        const report = healthOf({...healthy, engine: {state: "started", problem: "The inference server at http://x cannot be reached: connection refused", lastDecodeAt: undefined}}, rules);
        expect(report).toMatchObject({status: 503, body: {engine: "unreachable", gateway: "connected"}});
        expect(report.body.reasons).toEqual(["the engine cannot answer: The inference server at http://x cannot be reached: connection refused"]);
    });

    it("given answers waiting and no decode nor token for over 60 s, then 503 stuck; a recent decode or token, or no answer waiting, is fine", () => {
        const quiet = {answering: 2, lastProgressAt: now - 61_000};
        expect(healthOf({...healthy, answers: quiet}, rules)).toMatchObject({
            status: 503,
            body: {engine: "stuck", answering: 2, reasons: ["no decode for 61 s while 2 answers wait"]}
        });
        // the lockstep's clock saw a decode (a long prompt being read, no token yet)
        expect(healthOf({...healthy, answers: quiet, engine: {state: "started", problem: undefined, lastDecodeAt: now - 5000}}, rules).status).toBe(200);
        expect(healthOf({...healthy, answers: {answering: 2, lastProgressAt: now - 59_000}}, rules).status).toBe(200);
        expect(healthOf({...healthy, answers: {answering: 0, lastProgressAt: now - 600_000}}, rules).status).toBe(200);
    });

    it("given an answer waiting over 60 s on a tool call (a person's Allow or Deny), then it is not stuck; another answer with no decode is", () => {
        expect(healthOf({...healthy, answers: {answering: 1, inToolCalls: 1, lastProgressAt: now - 90_000}}, rules).status).toBe(200);
        expect(healthOf({...healthy, answers: {answering: 2, inToolCalls: 1, lastProgressAt: now - 90_000}}, rules)).toMatchObject({
            status: 503,
            body: {engine: "stuck", reasons: ["no decode for 90 s while 1 answer waits"]}
        });
    });
});
