// Model audio on the practice page: how the exercise's text sounds (the Listen button) and
// how each word the learner got wrong sounds (a button after the word). The audio comes
// through the API with the bearer token, played from an object URL: the page's CSP plays
// media from this origin and blob: only.

import { ApiError, accessToken, refresh } from "./api.js";
import { h } from "./dom.js";

/** The exercise's model audio, or `word` of it, as an object URL. */
export async function modelAudioUrl(exerciseId, word) {
  const query = word ? new URLSearchParams({ word }) : "";
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`/v1/exercises/${exerciseId}/model-audio/wav?${query}`, {
      headers: { Authorization: `Bearer ${accessToken()}` },
    });
    if (response.status === 401 && attempt === 1) {
      await refresh();
      continue;
    }
    if (!response.ok) {
      throw new ApiError(response.status, "model_audio", "Listening is not available right now.");
    }
    return URL.createObjectURL(await response.blob());
  }
}

export class ModelAudio {
  /** @param {string} exerciseId @param {(text: string) => void} say shows an error */
  constructor(exerciseId, say) {
    this.exerciseId = exerciseId;
    this.say = say;
    this.player = h("audio", { controls: "", hidden: "", "data-testid": "model-audio" });
  }

  /** The Listen button, and the player it fills. */
  controls() {
    const listen = h("button", { type: "button", "data-testid": "listen",
      onclick: () => this.play(null) }, "Listen");
    return h("span", {}, listen, this.player);
  }

  /** `block` (from wordsBlock) with a button to hear each word that was not said right. */
  words(block) {
    for (const span of block.querySelectorAll('[data-testid="word"]')) {
      if (span.dataset.errorType === "none") continue;
      const word = span.textContent;
      span.after(h("button", { type: "button", class: "listen-word", "data-testid": "listen-word",
        "aria-label": `Hear "${word}"`, title: `Hear "${word}"`, onclick: () => this.play(word) },
        "▶"));
    }
    return block;
  }

  async play(word) {
    try {
      const url = await modelAudioUrl(this.exerciseId, word);
      if (this.player.src) URL.revokeObjectURL(this.player.src);
      this.player.src = url;
      this.player.dataset.word = word || "";
      this.player.hidden = false;
      // Refused when the browser allows no playback yet: the visible player still can.
      await this.player.play().catch(() => {});
    } catch (error) {
      this.say(error.message);
    }
  }
}
