// The player bar: an <audio> element streaming /api/tracks/{id}/stream, with play/pause, previous/next,
// seek, volume and keyboard shortcuts. Time and seeking stay in the browser; the server only hears
// "previous", "next" and "ended" (it owns the queue) and tells the bar what to load.
export default {
  template: `
    <div class="sb-player row items-center no-wrap">
      <audio ref="audio" preload="metadata" @timeupdate="tick" @durationchange="tick" @loadedmetadata="tick"
             @play="playing = true" @pause="playing = false" @ended="$emit('ended')"></audio>
      <div class="sb-player-now row items-center no-wrap">
        <img v-if="cover" :src="cover" class="sb-player-cover" alt="" />
        <div v-else class="sb-player-cover sb-cover-empty"><q-icon name="music_note" /></div>
        <div class="sb-player-meta column">
          <span class="sb-player-title ellipsis">{{ title || 'Nothing playing' }}</span>
          <span class="sb-player-artist ellipsis">{{ artist }}</span>
        </div>
      </div>
      <div class="sb-player-controls column items-center">
        <div class="row items-center no-wrap">
          <q-btn flat round dense icon="skip_previous" aria-label="Previous" class="sb-prev" @click="$emit('previous')" />
          <q-btn round unelevated color="primary" :icon="playing ? 'pause' : 'play_arrow'"
                 :aria-label="playing ? 'Pause' : 'Play'" class="sb-play" @click="toggle" />
          <q-btn flat round dense icon="skip_next" aria-label="Next" class="sb-next" @click="$emit('next')" />
        </div>
        <div class="row items-center no-wrap sb-seek-row">
          <span class="sb-time">{{ clock(current) }}</span>
          <q-slider class="sb-seek" :model-value="current" :min="0" :max="duration || 1" :step="0"
                    :disable="!duration" dense @update:model-value="seek" aria-label="Seek" />
          <span class="sb-time">{{ clock(duration) }}</span>
        </div>
      </div>
      <div class="sb-player-side row items-center no-wrap">
        <q-icon class="sb-volume-icon" :name="volume === 0 ? 'volume_off' : 'volume_up'" size="sm" />
        <q-slider class="sb-volume" v-model="volume" :min="0" :max="1" :step="0.01" dense aria-label="Volume" />
        <q-btn flat round dense icon="queue_music" aria-label="Queue" class="sb-queue-toggle" @click="$emit('queue')" />
      </div>
    </div>`,
  props: { title: String, artist: String, cover: String },
  data() {
    return { playing: false, current: 0, duration: 0, volume: Number(localStorage.getItem("sb-volume") ?? 1) };
  },
  watch: {
    volume(v) {
      this.$refs.audio.volume = v;
      localStorage.setItem("sb-volume", String(v));
    },
  },
  mounted() {
    this.$refs.audio.volume = this.volume;
    this.onKey = (e) => {
      const t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName)))) return;
      if (e.code === "Space") { e.preventDefault(); this.toggle(); }
      else if (e.key === "ArrowRight" && e.shiftKey) this.$emit("next");
      else if (e.key === "ArrowLeft" && e.shiftKey) this.$emit("previous");
      else if (e.key === "ArrowRight") this.seek(Math.min(this.current + 10, this.duration || 0));
      else if (e.key === "ArrowLeft") this.seek(Math.max(this.current - 10, 0));
      else if (e.key === "ArrowUp") { e.preventDefault(); this.volume = Math.min(1, this.volume + 0.05); }
      else if (e.key === "ArrowDown") { e.preventDefault(); this.volume = Math.max(0, this.volume - 0.05); }
    };
    document.addEventListener("keydown", this.onKey);
  },
  unmounted() {
    document.removeEventListener("keydown", this.onKey);
  },
  methods: {
    load(src, autoplay) {
      const audio = this.$refs.audio;
      this.current = 0;
      this.duration = 0;
      if (!src) { audio.removeAttribute("src"); audio.load(); return; }
      audio.src = src;
      if (autoplay) this.start();
    },
    start() {
      // A new load interrupting play() rejects it with AbortError: expected, not an error. A browser
      // refusing to autoplay (NotAllowedError) just leaves the play button for the listener.
      this.$refs.audio.play().catch((e) => {
        if (e.name !== "AbortError" && e.name !== "NotAllowedError") this.$emit("failed", e.message);
      });
    },
    toggle() {
      const audio = this.$refs.audio;
      if (!audio.getAttribute("src")) { this.$emit("start"); return; }
      audio.paused ? this.start() : audio.pause();
    },
    seek(seconds) {
      this.$refs.audio.currentTime = seconds;
      this.current = seconds;
    },
    tick() {
      const audio = this.$refs.audio;
      this.current = audio.currentTime;
      this.duration = Number.isFinite(audio.duration) ? audio.duration : 0;
    },
    clock(s) {
      s = Math.floor(s || 0);
      return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    },
  },
};
