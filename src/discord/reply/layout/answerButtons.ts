import {ActionRowBuilder, ButtonBuilder, ButtonStyle} from "discord.js";

/**
 * A button under a finished answer. `continue` names the asker, so that its permission check needs no
 * memory and still works after a restart.
 */
export type AnswerButton =
    | {readonly kind: "reasoning"}
    | {readonly kind: "tools"}
    | {readonly kind: "continue", readonly askerId: string};

/** What a pressed button of the bot's asks for, read back from its custom id. */
export type PressedButton =
    | {readonly kind: "stop", readonly answerId: string}
    | {readonly kind: "reasoning", readonly answerId: string}
    | {readonly kind: "tools", readonly answerId: string}
    | {readonly kind: "continue", readonly answerId: string, readonly askerId: string}
    /** Allow or Deny of a tool call waiting for a person: the answer's `callNumber`th call (from 1). */
    | {readonly kind: "allow" | "deny", readonly answerId: string, readonly callNumber: number};

// custom ids are "kind:answerId" (and ":askerId" for continue, ":callNumber" for allow and deny): at most
// 9 + 20 + 1 + 20 characters, well within Discord's 100
const separator = ":";

function customIdOf(button: PressedButton): string {
    switch (button.kind) {
        case "continue":
            return [button.kind, button.answerId, button.askerId].join(separator);
        case "allow":
        case "deny":
            return [button.kind, button.answerId, String(button.callNumber)].join(separator);
        default:
            return [button.kind, button.answerId].join(separator);
    }
}

/** The button a custom id stands for, or undefined for one the bot did not make. */
export function parseButtonId(customId: string): PressedButton | undefined {
    const [kind, answerId, third, ...rest] = customId.split(separator);
    if (answerId == null || answerId === "" || rest.length > 0)
        return undefined;
    if ((kind === "stop" || kind === "reasoning" || kind === "tools") && third == null)
        return {kind, answerId};
    if (kind === "continue" && third != null && third !== "")
        return {kind, answerId, askerId: third};
    if ((kind === "allow" || kind === "deny") && third != null && /^[1-9]\d{0,5}$/.test(third))
        return {kind, answerId, callNumber: Number(third)};
    return undefined;
}

export type ButtonsShown = {
    readonly stop: boolean;
    readonly answer: readonly AnswerButton[];
    /** The number of the tool call waiting for Allow / Deny, if any. */
    readonly approval?: number;
};

/** Allow / Deny of a waiting tool call, then the Stop button under a running answer, or the buttons under a finished one; one row. */
export function answerButtonRow(answerId: string, buttons: ButtonsShown): ActionRowBuilder<ButtonBuilder> {
    const row = new ActionRowBuilder<ButtonBuilder>();
    if (buttons.approval !== undefined) {
        const callNumber = buttons.approval;
        row.addComponents(
            new ButtonBuilder().setCustomId(customIdOf({kind: "allow", answerId, callNumber})).setLabel("Allow").setEmoji("✅").setStyle(ButtonStyle.Success),
            new ButtonBuilder().setCustomId(customIdOf({kind: "deny", answerId, callNumber})).setLabel("Deny").setEmoji("✖️").setStyle(ButtonStyle.Danger)
        );
    }
    if (buttons.stop)
        row.addComponents(new ButtonBuilder().setCustomId(customIdOf({kind: "stop", answerId})).setLabel("Stop").setEmoji("⏹").setStyle(ButtonStyle.Secondary));
    for (const button of buttons.answer) {
        if (button.kind === "reasoning")
            row.addComponents(new ButtonBuilder().setCustomId(customIdOf({kind: "reasoning", answerId})).setLabel("Reasoning").setEmoji("💭").setStyle(ButtonStyle.Secondary));
        else if (button.kind === "tools")
            row.addComponents(new ButtonBuilder().setCustomId(customIdOf({kind: "tools", answerId})).setLabel("Tools").setEmoji("🔧").setStyle(ButtonStyle.Secondary));
        else
            row.addComponents(new ButtonBuilder().setCustomId(customIdOf({kind: "continue", answerId, askerId: button.askerId})).setLabel("Continue").setEmoji("▶️").setStyle(ButtonStyle.Primary));
    }
    return row;
}
