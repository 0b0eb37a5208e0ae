// One practice session over /v1/ws/practice (docs/protocol.md): audio is held until `ack`
// (the microphone starts first, so the first word is not clipped), every frame is kept
// until the session ends, and a dropped connection resumes with the resume token and
// resends what the server had not received.

import { accessToken, refresh } from "./api.js";

const SENTENCES = {
  too_many_sessions: "You already have a practice session open. Finish it first.",
  node_full: "The server is busy right now. Please try again in a minute.",
  rate_limited: "Too many attempts. Please wait a moment and try again.",
  audio_limit: "That is the longest recording this exercise takes; finishing now.",
  session_limit: "The time for this exercise is up; finishing now.",
  idle_timeout: "No sound reached the server for a while; finishing now.",
  evaluation_failed: "Your recording could not be scored. Please try again.",
  unsupported_audio: "Your microphone's format is not supported.",
  not_found: "This exercise is not available to you.",
};

export function sentence(error) {
  return SENTENCES[error.code] || error.message || "Something went wrong.";
}

export class PracticeSession {
  /**
   * @param {string} exerciseId
   * @param {number} sampleRate
   * @param {{interim(m: any): void, final(m: any): void, feedback(m: any): void,
   *          error(text: string, fatal: boolean): void, state(s: string): void}} on
   */
  constructor(exerciseId, sampleRate, on) {
    this.exerciseId = exerciseId;
    this.sampleRate = sampleRate;
    this.on = on;
    this.frames = []; // every frame, kept until the final: a resume may need them again
    this.sentBytes = 0; // bytes of `frames` sent on the current connection
    this.acked = false;
    this.sessionId = null;
    this.resumeToken = null;
    this.stopped = false;
    this.done = false;
    this.resumes = 0;
    this.blip = false;
  }

  start() {
    this.connect(null);
  }

  connect(resume) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The token as a subprotocol, not in the URL, where proxies' access logs would keep it.
    const ws = new WebSocket(`${scheme}://${location.host}/v1/ws/practice`,
      ["parley.v1", `bearer.${accessToken()}`]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.acked = false;
    ws.onopen = () => {
      const start = { type: "start", audio: { sample_rate: this.sampleRate } };
      if (resume) start.resume = resume;
      else start.exercise_id = this.exerciseId;
      ws.send(JSON.stringify(start));
    };
    ws.onmessage = (event) => this.message(JSON.parse(event.data));
    ws.onclose = (event) => this.closed(event);
  }

  message(m) {
    switch (m.type) {
      case "ack":
        this.sessionId = m.session_id;
        this.resumeToken = m.resume_token;
        this.acked = true;
        // On a resume the server says how much it holds: send the rest again.
        this.sentBytes = m.resumed ? m.received_bytes : 0;
        this.flush();
        if (this.stopped) this.ws.send(JSON.stringify({ type: "stop" }));
        this.on.state(m.resumed ? "resumed" : "recording");
        break;
      case "interim_transcript":
        this.on.interim(m);
        break;
      case "processing":
        this.on.state("processing");
        break;
      case "final":
        this.on.final(m);
        break;
      case "feedback":
        this.done = true;
        this.on.feedback(m);
        this.ws.close(1000);
        break;
      case "error":
        this.on.error(sentence(m), Boolean(m.fatal));
        if (m.fatal) this.done = true;
        break;
      default:
        break;
    }
  }

  async closed(event) {
    const blip = this.blip;
    this.blip = false;
    if (this.done || (event.code === 1000 && !blip)) return;
    if (blip) {
      // fall through to the resume below
    } else if (event.code === 4401) {
      // The access token expired while practising: renew it and resume.
      try {
        await refresh();
      } catch (error) {
        this.done = true;
        this.on.error(error.message, true);
        return;
      }
    } else if (event.code >= 4000) {
      this.done = true;
      this.on.error(sentence({ code: "", message: event.reason }), true);
      return;
    }
    if (!this.sessionId || this.resumes >= 5) {
      this.done = true;
      this.on.error("The connection to the server was lost.", true);
      return;
    }
    this.resumes += 1;
    this.on.state("reconnecting");
    setTimeout(
      () => this.connect({ session_id: this.sessionId, token: this.resumeToken }),
      300 * this.resumes,
    );
  }

  /** A microphone frame: held until `ack`, then sent. */
  audio(pcm) {
    if (this.stopped) return;
    this.frames.push(pcm);
    this.flush();
  }

  flush() {
    if (!this.acked || this.ws.readyState !== WebSocket.OPEN) return;
    let offset = 0;
    for (const frame of this.frames) {
      const end = offset + frame.byteLength;
      if (end > this.sentBytes) {
        this.ws.send(offset >= this.sentBytes ? frame : frame.slice(this.sentBytes - offset));
      }
      offset = end;
    }
    this.sentBytes = offset;
  }

  stop() {
    this.stopped = true;
    if (this.acked && this.ws.readyState === WebSocket.OPEN) {
      this.flush();
      this.ws.send(JSON.stringify({ type: "stop" }));
    }
  }

  /** Test hook: drop the connection as a network blip would. */
  drop() {
    this.blip = true;
    this.ws.close();
  }
}
