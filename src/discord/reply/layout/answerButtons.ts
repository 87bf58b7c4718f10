import {ActionRowBuilder, ButtonBuilder, ButtonStyle} from "discord.js";

/**
 * A button under a finished answer. `continue` names the asker, so that its permission check needs no
 * memory and still works after a restart.
 */
export type AnswerButton =
    | {readonly kind: "reasoning"}
    | {readonly kind: "continue", readonly askerId: string};

/** What a pressed button of the bot's asks for, read back from its custom id. */
export type PressedButton =
    | {readonly kind: "stop", readonly answerId: string}
    | {readonly kind: "reasoning", readonly answerId: string}
    | {readonly kind: "continue", readonly answerId: string, readonly askerId: string};

// custom ids are "kind:answerId" (and ":askerId" for continue): at most 9 + 20 + 1 + 20 characters, well within Discord's 100
const separator = ":";

function customIdOf(button: PressedButton): string {
    return button.kind === "continue"
        ? [button.kind, button.answerId, button.askerId].join(separator)
        : [button.kind, button.answerId].join(separator);
}

/** The button a custom id stands for, or undefined for one the bot did not make. */
export function parseButtonId(customId: string): PressedButton | undefined {
    const [kind, answerId, askerId, ...rest] = customId.split(separator);
    if (answerId == null || answerId === "" || rest.length > 0)
        return undefined;
    if ((kind === "stop" || kind === "reasoning") && askerId == null)
        return {kind, answerId};
    if (kind === "continue" && askerId != null && askerId !== "")
        return {kind, answerId, askerId};
    return undefined;
}

/** The Stop button under a running answer, or the buttons under a finished one; one row. */
export function answerButtonRow(answerId: string, buttons: {readonly stop: boolean, readonly answer: readonly AnswerButton[]}): ActionRowBuilder<ButtonBuilder> {
    const row = new ActionRowBuilder<ButtonBuilder>();
    if (buttons.stop)
        row.addComponents(new ButtonBuilder().setCustomId(customIdOf({kind: "stop", answerId})).setLabel("Stop").setEmoji("⏹").setStyle(ButtonStyle.Secondary));
    for (const button of buttons.answer) {
        if (button.kind === "reasoning")
            row.addComponents(new ButtonBuilder().setCustomId(customIdOf({kind: "reasoning", answerId})).setLabel("Reasoning").setEmoji("💭").setStyle(ButtonStyle.Secondary));
        else
            row.addComponents(new ButtonBuilder().setCustomId(customIdOf({kind: "continue", answerId, askerId: button.askerId})).setLabel("Continue").setEmoji("▶️").setStyle(ButtonStyle.Primary));
    }
    return row;
}
