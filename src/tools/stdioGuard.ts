/**
 * Runs one stdio MCP server so that it never outlives the bot: `node stdioGuard.js <command> [args...]`.
 *
 * The bot starts this program in place of the server. It starts the server in a process group of its
 * own, hands it its stdout and stderr, and passes its stdin on. When its stdin closes (the bot closed the
 * server, or the bot's process is gone, even killed with SIGKILL: the kernel closes its pipes), or it gets
 * SIGTERM, SIGINT or SIGHUP, it ends the server's stdin, and then the whole group: SIGTERM after
 * {@link graceMs}, SIGKILL after as long again. Many servers stop by themselves when their stdin closes;
 * a server busy with a call, stuck, or started through a wrapper (`npx`, a shell) does not.
 * It exits as the server does.
 */
import {spawn} from "node:child_process";

/** How long the server is given to stop by itself, then to stop on SIGTERM. */
const graceMs = 1000;

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
    process.stderr.write("usage: node stdioGuard.js <command> [args...]\n");
    process.exit(2);
}

// its own process group (POSIX), so that the server's own children end with it
const server = spawn(command, args, {stdio: ["pipe", "inherit", "inherit"], detached: process.platform !== "win32"});

/** Signals the server's whole group (the server alone on Windows); a group already gone is fine. */
function signalServer(signal: NodeJS.Signals): void {
    if (server.pid === undefined)
        return;
    try {
        if (process.platform === "win32")
            server.kill(signal);
        else
            process.kill(-server.pid, signal);
    } catch {
        // already gone
    }
}

let ending = false;
/** Ends the server: its stdin first, then SIGTERM, then SIGKILL, for its whole group. */
function endServer(waitFirst: boolean): void {
    if (ending)
        return;
    ending = true;
    server.stdin.end();
    const terminate = setTimeout(() => signalServer("SIGTERM"), waitFirst ? graceMs : 0);
    const kill = setTimeout(() => signalServer("SIGKILL"), waitFirst ? 2 * graceMs : graceMs);
    server.once("exit", () => {
        clearTimeout(terminate);
        clearTimeout(kill);
    });
}

server.on("error", (error) => {
    process.stderr.write(`cannot start ${JSON.stringify(command)}: ${error.message}\n`);
    process.exit(127);
});
server.on("exit", (code, signal) => {
    // what the server left running in its group ends with it
    signalServer("SIGKILL");
    process.exit(code ?? (signal == null ? 1 : 128));
});
// the server gone while the bot still writes: its pipe breaks; the exit above says the rest
server.stdin.on("error", () => {});
process.stdin.pipe(server.stdin, {end: false});
process.stdin.on("end", () => endServer(true));
process.stdin.on("error", () => endServer(true));
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
    process.on(signal, () => endServer(false));
