import http from "node:http";
import type {AddressInfo} from "node:net";
import {UserFacingError} from "../errors.js";
import type {Logger} from "../logger.js";
import {errorMessage} from "../utils/errorMessage.js";

/** What the server serves: the health (its status, and a JSON body), and the metrics in Prometheus's text format. */
export type MonitoringEndpoints = {
    health(): Promise<{readonly status: 200 | 503, readonly body: unknown}>;
    metrics(): Promise<{readonly contentType: string, readonly text: string}>;
};

export type MonitoringServerOptions = {
    /** METRICS_HOST */
    readonly host: string;
    /** METRICS_PORT */
    readonly port: number;
    readonly endpoints: MonitoringEndpoints;
    readonly logger: Logger;
};

/** The server could not listen (the port taken, the address not this machine's): a setting to fix. */
export class MonitoringStartError extends UserFacingError {
    constructor(userMessage: string, cause: unknown) {
        super("monitoring-start", userMessage);
        this.name = "MonitoringStartError";
        this.cause = cause;
    }
}

/**
 * One small HTTP server: `GET /healthz` (200 or 503, a short JSON body) and `GET /metrics`
 * (Prometheus); anything else is a 404. It serves nothing a Discord user wrote.
 */
export class MonitoringServer {
    /** Where it listens, e.g. http://127.0.0.1:9464 */
    readonly url: string;
    readonly #server: http.Server;

    private constructor(server: http.Server, url: string) {
        this.#server = server;
        this.url = url;
    }

    /** @throws {MonitoringStartError} naming METRICS_PORT or METRICS_HOST when it cannot listen */
    static async start({host, port, endpoints, logger}: MonitoringServerOptions): Promise<MonitoringServer> {
        const server = http.createServer((request, response) => {
            serve(request, response, endpoints).catch((error: unknown) => {
                logger.error(`Serving ${request.url ?? ""} of the metrics server failed.`, error);
                if (!response.headersSent)
                    response.writeHead(500, {"content-type": "text/plain; charset=utf-8"});
                response.end("internal error\n");
            });
        });
        // the server must never keep the process alive on its own, nor an idle scraper's connection a shutdown waiting
        server.unref();
        server.keepAliveTimeout = 5000;
        try {
            await new Promise<void>((resolve, reject) => {
                server.once("error", reject);
                server.listen(port, host, () => {
                    server.off("error", reject);
                    resolve();
                });
            });
        } catch (error) {
            throw new MonitoringStartError(`The metrics server cannot listen on ${host}:${port} (${errorMessage(error)}): ` +
                "choose a free METRICS_PORT, and a METRICS_HOST of this machine (127.0.0.1, or 0.0.0.0 for every address).", error);
        }
        const address = server.address() as AddressInfo;
        const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
        return new MonitoringServer(server, `http://${shownHost}:${address.port}`);
    }

    /** Stops listening and closes its connections. Safe to call twice. */
    async close(): Promise<void> {
        if (!this.#server.listening)
            return;
        await new Promise<void>((resolve) => {
            this.#server.close(() => resolve());
            this.#server.closeAllConnections();
        });
    }
}

async function serve(request: http.IncomingMessage, response: http.ServerResponse, endpoints: MonitoringEndpoints): Promise<void> {
    const {pathname} = new URL(request.url ?? "/", "http://localhost");
    const method = request.method ?? "GET";
    if (!(method === "GET" || method === "HEAD") || !(pathname === "/healthz" || pathname === "/metrics")) {
        response.writeHead(404, {"content-type": "text/plain; charset=utf-8"});
        response.end("not found: GET /healthz or /metrics\n");
        return;
    }
    if (pathname === "/healthz") {
        const report = await endpoints.health();
        response.writeHead(report.status, {"content-type": "application/json", "cache-control": "no-store"});
        response.end(method === "HEAD" ? undefined : JSON.stringify(report.body) + "\n");
        return;
    }
    const {contentType, text} = await endpoints.metrics();
    response.writeHead(200, {"content-type": contentType, "cache-control": "no-store"});
    response.end(method === "HEAD" ? undefined : text);
}
