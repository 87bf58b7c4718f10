import {describe, expect, it} from "vitest";
import {threadsForLoad} from "../../src/llm/local/threadsForLoad.js";

const twoCores = {maxThreads: 2, logicalCpus: 2};

describe("llama.cpp's threads with THREADS unset", () => {
    it("are every core while nothing else runs, or little", () => {
        expect(threadsForLoad({...twoCores, otherProcessesCpus: 0, currentThreads: 2})).toBe(2);
        expect(threadsForLoad({...twoCores, otherProcessesCpus: 0.3, currentThreads: 2})).toBe(2);
    });

    it("leave a core to a process that keeps one busy, and take it back once it stops", () => {
        expect(threadsForLoad({...twoCores, otherProcessesCpus: 0.9, currentThreads: 2})).toBe(1);
        expect(threadsForLoad({...twoCores, otherProcessesCpus: 1, currentThreads: 1})).toBe(1);
        expect(threadsForLoad({...twoCores, otherProcessesCpus: 0.05, currentThreads: 1})).toBe(2);
    });

    it("never drop below one, however busy the machine", () => {
        expect(threadsForLoad({...twoCores, otherProcessesCpus: 2, currentThreads: 2})).toBe(1);
        expect(threadsForLoad({maxThreads: 8, logicalCpus: 8, otherProcessesCpus: 20, currentThreads: 8})).toBe(1);
    });

    it("do not flap while the load hovers around half a core", () => {
        expect(threadsForLoad({...twoCores, otherProcessesCpus: 0.55, currentThreads: 2})).toBe(2);
        expect(threadsForLoad({...twoCores, otherProcessesCpus: 0.45, currentThreads: 1})).toBe(1);
    });

    it("count other processes' load on SMT siblings and extra CPUs first", () => {
        // 8 cores, 16 logical CPUs: one busy process fits on a sibling
        expect(threadsForLoad({maxThreads: 8, logicalCpus: 16, otherProcessesCpus: 1, currentThreads: 8})).toBe(8);
        expect(threadsForLoad({maxThreads: 8, logicalCpus: 16, otherProcessesCpus: 11, currentThreads: 8})).toBe(5);
    });
});
