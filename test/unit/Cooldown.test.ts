import {describe, expect, it} from "vitest";
import {Cooldown} from "../../src/chat/Cooldown.js";

describe("Cooldown", () => {
    it("given prompts faster than the window, then they are refused with the time left, told once", () => {
        const cooldown = new Cooldown(2000);
        expect(cooldown.check("a", 0)).toEqual({allowed: true});
        expect(cooldown.check("a", 500)).toEqual({allowed: false, retryAfterMs: 1500, firstRefusal: true});
        expect(cooldown.check("a", 900)).toEqual({allowed: false, retryAfterMs: 1100, firstRefusal: false});
        expect(cooldown.check("b", 900)).toEqual({allowed: true});
        expect(cooldown.check("a", 2000)).toEqual({allowed: true});
        expect(cooldown.check("a", 2100)).toMatchObject({allowed: false, firstRefusal: true});
    });

    it("given 30 prompts in 10 s from one user, then only one per window is allowed", () => {
        const cooldown = new Cooldown(2000);
        const allowed = Array.from({length: 30}, (_, index) => cooldown.check("spammer", index * 333)).filter((result) => result.allowed);
        expect(allowed).toHaveLength(5);
    });

    it("given a zero window, then nothing is limited", () => {
        const cooldown = new Cooldown(0);
        expect(cooldown.check("a", 0).allowed && cooldown.check("a", 0).allowed).toBe(true);
    });
});
