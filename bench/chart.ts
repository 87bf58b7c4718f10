import type {ThroughputSeries} from "./lib/measurement.js";

const width = 720;
const height = 440;
const margin = {top: 70, right: 30, bottom: 60, left: 70};
const palette = ["#54a24b", "#4c78a8", "#f58518", "#b279a2", "#e45756"];
const colors = {grid: "#e4e4e4", text: "#333333"};

type Series = {
    readonly name: string;
    readonly color: string;
    readonly points: readonly {width: number, median: number, low: number, high: number}[];
};

/**
 * A line chart of aggregate tokens/s against answers at once, one line per series (llama.cpp,
 * node-llama-cpp alone, the bot): medians joined by lines, each median's 95% interval as a bar.
 * Hand-written SVG, no dependency.
 */
export function throughputChart(lines: readonly ThroughputSeries[], caption: string): string {
    const series: Series[] = lines.map((line, index) => ({
        name: line.name,
        color: palette[index % palette.length]!,
        points: line.points.map((entry) => ({width: entry.width, median: entry.tokensPerSecond.value, low: entry.tokensPerSecond.low, high: entry.tokensPerSecond.high}))
    }));
    const widths = [...new Set(series.flatMap((line) => line.points.map((entry) => entry.width)))].sort((a, b) => a - b);
    const top = niceCeiling(Math.max(...series.flatMap((line) => line.points.map((entry) => entry.high)).filter(Number.isFinite)) * 1.1);
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    // the points sit inside the axes, not on them
    const inset = 40;
    const x = (channels: number) => round1(margin.left + inset +
        (widths.length === 1 ? (plotWidth - 2 * inset) / 2 : widths.indexOf(channels) / (widths.length - 1) * (plotWidth - 2 * inset)));
    const y = (value: number) => round1(margin.top + plotHeight - value / top * plotHeight);

    const parts: string[] = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
        `<rect width="${width}" height="${height}" fill="white"/>`,
        `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold" fill="${colors.text}">Aggregate tokens/s with N answers at once</text>`,
        `<text x="${width / 2}" y="44" text-anchor="middle" font-size="11" fill="${colors.text}">${escapeXml(caption)}</text>`
    ];
    for (const tick of ticks(top)) {
        parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="${colors.grid}"/>`);
        parts.push(`<text x="${margin.left - 8}" y="${y(tick) + 4}" text-anchor="end" fill="${colors.text}">${tick}</text>`);
    }
    for (const channels of widths)
        parts.push(`<text x="${x(channels)}" y="${height - margin.bottom + 20}" text-anchor="middle" fill="${colors.text}">${channels}</text>`);
    parts.push(
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(0)}" y2="${y(0)}" stroke="${colors.text}"/>`,
        `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${y(0)}" stroke="${colors.text}"/>`,
        `<text x="${margin.left + plotWidth / 2}" y="${height - 18}" text-anchor="middle" fill="${colors.text}">answers at once (channels, sessions, or llama.cpp sequences)</text>`,
        `<text transform="translate(20 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="${colors.text}">tokens/s, all channels together</text>`
    );
    for (const [index, line] of series.entries()) {
        const offset = (index - (series.length - 1) / 2) * 6;
        parts.push(`<polyline fill="none" stroke="${line.color}" stroke-width="2.5" points="${line.points.map((entry) => `${x(entry.width) + offset},${y(entry.median)}`).join(" ")}"/>`);
        for (const entry of line.points)
            parts.push(
                `<line x1="${x(entry.width) + offset}" x2="${x(entry.width) + offset}" y1="${y(entry.low)}" y2="${y(entry.high)}" stroke="${line.color}" stroke-width="1.5" opacity="0.6"/>`,
                `<circle cx="${x(entry.width) + offset}" cy="${y(entry.median)}" r="4" fill="${line.color}"/>`
            );
        const legendY = margin.top + 8 + index * 18;
        parts.push(
            `<line x1="${margin.left + 16}" x2="${margin.left + 40}" y1="${legendY}" y2="${legendY}" stroke="${line.color}" stroke-width="2.5"/>`,
            `<text x="${margin.left + 46}" y="${legendY + 4}" fill="${colors.text}">${escapeXml(line.name)}</text>`
        );
    }
    parts.push(`<text x="${margin.left + 16}" y="${margin.top + 8 + series.length * 18 + 4}" font-size="10" fill="${colors.text}">dots: median of the rounds; bars: its 95% bootstrap interval</text>`);
    parts.push("</svg>");
    return parts.join("\n") + "\n";
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceCeiling(value: number): number {
    if (!(value > 0))
        return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    return ([1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value)) ?? 10 * power;
}

function ticks(top: number): number[] {
    const step = niceCeiling(top / 6);
    const values: number[] = [];
    for (let tick = 0; tick <= top + step / 1000; tick += step)
        values.push(Math.round(tick * 1000) / 1000);
    return values;
}

function round1(value: number): number {
    return Math.round(value * 10) / 10;
}

function escapeXml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
