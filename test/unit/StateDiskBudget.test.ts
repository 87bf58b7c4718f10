import {describe, expect, it} from "vitest";
import {StateDiskBudget} from "../../src/llm/local/StateDiskBudget.js";

describe("StateDiskBudget", () => {
    it("given files within the budget, then nothing is deleted", () => {
        const budget = new StateDiskBudget(100);
        expect(budget.add("a", 40)).toEqual([]);
        expect(budget.add("b", 60)).toEqual([]);
        expect(budget.totalBytes).toBe(100);
    });

    it("given a file over the budget, then the least recently saved files go first", () => {
        const budget = new StateDiskBudget(100);
        budget.add("a", 40);
        budget.add("b", 30);
        budget.add("c", 20);
        expect(budget.add("d", 60)).toEqual(["a", "b"]);
        expect(budget.totalBytes).toBe(80);
    });

    it("given a conversation saved again, then it counts once, as the most recently used", () => {
        const budget = new StateDiskBudget(100);
        budget.add("a", 40);
        budget.add("b", 40);
        expect(budget.add("a", 50)).toEqual([]);
        expect(budget.totalBytes).toBe(90);
        expect(budget.add("c", 30)).toEqual(["b"]);
    });

    it("given a file bigger than the whole budget, then it is the one to delete", () => {
        const budget = new StateDiskBudget(100);
        budget.add("a", 40);
        expect(budget.add("huge", 150)).toEqual(["a", "huge"]);
        expect(budget.totalBytes).toBe(0);
    });

    it("given a removed conversation, then its bytes no longer count", () => {
        const budget = new StateDiskBudget(100);
        budget.add("a", 40);
        budget.remove("a");
        budget.remove("never saved");
        expect(budget.totalBytes).toBe(0);
    });
});
