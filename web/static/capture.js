// The microphone, through an AudioWorklet (never the deprecated ScriptProcessor).

export class MicrophoneDenied extends Error {}

export class Microphone {
  /** @param {(pcm: ArrayBuffer) => void} onFrame @param {(level: number) => void} onLevel */
  constructor(onFrame, onLevel) {
    this.onFrame = onFrame;
    this.onLevel = onLevel;
    this.context = null;
    this.stream = null;
  }

  get sampleRate() {
    return this.context ? this.context.sampleRate : 0;
  }

  async open() {
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false },
      });
    } catch (error) {
      throw new MicrophoneDenied(
        "Parley cannot use your microphone. Allow microphone access for this page in your " +
          "browser's settings, then try again.",
      );
    }
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule("/static/capture-worklet.js");
    const source = this.context.createMediaStreamSource(this.stream);
    const node = new AudioWorkletNode(this.context, "parley-capture", {
      channelCount: 1,
      channelCountMode: "explicit",
      channelInterpretation: "speakers",
    });
    node.port.onmessage = (event) => {
      this.onLevel(event.data.level);
      this.onFrame(event.data.pcm);
    };
    source.connect(node);
    // Pulled by the destination (silent): a node the graph does not pull is not run.
    const mute = this.context.createGain();
    mute.gain.value = 0;
    node.connect(mute).connect(this.context.destination);
    if (this.context.state === "suspended") await this.context.resume();
  }

  close() {
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    if (this.context) this.context.close();
    this.stream = this.context = null;
  }
}
