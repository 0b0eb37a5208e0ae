// What the tutor's desk reads live: the sessions live right now on any node, and one
// session's transcript as it is spoken, over /v1/ws/observe (docs/protocol.md, second part).

import { accessToken, api } from "./api.js";

export class SessionWatch {
  /** @param {string} sessionId @param {(text: string) => void} onText @param {(t: string) => void} onError */
  constructor(sessionId, onText, onError) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The token as a subprotocol, not in the URL, where proxies' access logs would keep it.
    this.ws = new WebSocket(`${scheme}://${location.host}/v1/ws/observe`,
      ["parley.v1", `bearer.${accessToken()}`]);
    this.ws.onopen = () =>
      this.ws.send(JSON.stringify({ type: "subscribe", channel: { kind: "session", id: sessionId } }));
    this.ws.onmessage = (event) => {
      const m = JSON.parse(event.data);
      if (m.type === "event") {
        const message = m.event.message;
        if (message.type === "interim_transcript") onText(`${message.committed} ${message.tentative}`);
        if (message.type === "final") onText(message.transcript);
      } else if (m.type === "error") {
        onError(m.message);
      }
    };
  }

  close() {
    this.ws.close(1000);
  }
}

export async function live() {
  return (await api("GET", "/v1/tutor/live")).items;
}
