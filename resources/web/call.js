// The browser guest's end of a conference room (城运会商).
//
// The page's address holds a one-time link: /call/<token>. Joining opens the WebSocket
// /ws/call/<token>, which uses the link up; the server then sends the room's state whenever it
// changes (`room`, with `you` = this guest's participant id). The guest sends its camera and
// microphone once into the room (`publish`) and receives each other participant that is
// publishing on a connection of its own (`participant`), as the consoles do. The call hub
// (aiortc) does not trickle ICE candidates, so every offer is sent once its candidates are
// gathered. The hub forwards what each participant encodes, H.264 or VP8: H.264 is preferred
// (the consoles encode it cheaply), VP8 where the browser has no H.264 encoder.
//
// `?autojoin=1` joins without the tap (for tests; a phone needs the tap for sound and for the
// camera permission). `?codec=vp8` sends VP8 even where H.264 is available.
//
// For tests, `window.cityopsStats()` resolves to what the browser sends and receives.
'use strict';

(() => {
  const params = new URLSearchParams(location.search);
  const token = decodeURIComponent(location.pathname.split('/').pop() || '');
  const basePath = location.pathname.replace(/\/call\/[^/]*$/, '');
  const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${basePath}/ws/call/${encodeURIComponent(token)}`;

  const GATHER_MS = 3000;
  const PING_MS = 15000;
  // A participant whose camera is on but whose pictures stopped coming (or never came) for this
  // long is received anew: the new connection asks the sender for a fresh keyframe.
  const STALL_MS = 5000;
  const BACKOFF_MS = [1000, 2000, 4000, 8000];
  const REFUSALS = {
    forbidden: '无权访问',
    unknown_room: '会商已结束',
    unknown_participant: '对方已不在会商中',
    not_joined: '未在会商中',
    invalid: '浏览器的媒体格式不受支持',
    unavailable: '服务暂不可用',
    full: '会商人数已满',
  };
  const MIC_OFF_SVG =
    '<svg class="mic-off" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ' +
    'stroke-linecap="round" aria-label="已静音"><path d="M9 9v3a3 3 0 0 0 5.1 2.1M15 9.3V5a3 3 0 0 0-5.9-.8"/>' +
    '<path d="M19 11a7 7 0 0 1-1.2 3.9M5 11a7 7 0 0 0 11.6 5.3M12 18v3M3 3l18 18"/></svg>';

  const $ = (id) => document.getElementById(id);

  const call = {
    ws: null,
    status: 'idle',
    room: '',
    you: '',
    state: null,
    local: null,
    audioOn: true,
    videoOn: true,
    publish: null,
    links: new Map(), // participant id → Link (receiving)
    tiles: new Map(), // participant id → tile elements
    pending: new Map(), // request id → Link
    requests: 0,
    leaving: false,
    ended: false,
    joining: false,
    warnings: [],
    pingTimer: null,
    watchTimer: null,
  };

  // -- status and notices -------------------------------------------------------------------
  function setStatus(status) {
    call.status = status;
    const el = $('status');
    el.dataset.state = status;
    el.textContent = { idle: '未加入', connecting: '连接中', connected: '已连接', ended: '已断开' }[status] || status;
  }

  function warn(text) {
    if (!call.warnings.includes(text)) call.warnings.push(text);
    const el = $('notice');
    el.textContent = call.warnings.join(' ');
    el.hidden = false;
  }

  function refusalText(code, reason) {
    return REFUSALS[code] || reason || code;
  }

  function send(message) {
    if (call.ws && call.ws.readyState === WebSocket.OPEN) {
      call.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  // -- one peer connection to the hub, kept up while the page is connected ------------------
  function gathered(pc) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = setTimeout(done, GATHER_MS);
      function check() {
        if (pc.iceGatheringState === 'complete') done();
      }
      function done() {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  function videoCodecs() {
    if (!window.RTCRtpSender || !RTCRtpSender.getCapabilities) return null;
    const caps = RTCRtpSender.getCapabilities('video');
    if (!caps) return null;
    const mime = (c) => c.mimeType.toLowerCase();
    const fmtp = (c) => (c.sdpFmtpLine || '').toLowerCase();
    // Constrained baseline, packetization mode 1: what aiortc on the consoles decodes.
    const h264 = caps.codecs
      .filter((c) => mime(c) === 'video/h264' && fmtp(c).includes('packetization-mode=1'))
      .filter((c) => /profile-level-id=42(e0|00)/.test(fmtp(c)))
      .sort((a, b) => (fmtp(b).includes('42e0') ? 1 : 0) - (fmtp(a).includes('42e0') ? 1 : 0));
    const vp8 = caps.codecs.filter((c) => mime(c) === 'video/vp8');
    const rtx = caps.codecs.filter((c) => mime(c) === 'video/rtx');
    const first = params.get('codec') === 'vp8' || !h264.length ? vp8 : [...h264, ...vp8];
    return first.length ? [...first, ...rtx] : null;
  }

  class Link {
    // kind: 'publish' (this guest's camera and microphone) or 'participant' (one other).
    constructor(kind, target, pid) {
      this.kind = kind;
      this.target = target;
      this.pid = pid;
      this.pc = null;
      this.request = null;
      this.stream = null;
      this.state = 'connecting';
      this.detail = '';
      this.attempts = 0;
      this.timer = null;
      this.closed = false;
      this.videoBytes = -1;
      this.videoSeen = 0;
    }

    async start() {
      this.timer = null;
      if (this.closed || call.ended) return;
      this.attempts += 1;
      this.set(this.attempts > 1 ? 'reconnecting' : 'connecting');
      const pc = new RTCPeerConnection({ iceServers: [] });
      this.pc = pc;
      try {
        if (this.kind === 'publish') {
          for (const track of call.local.getTracks()) {
            const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [call.local] });
            const codecs = track.kind === 'video' ? videoCodecs() : null;
            if (codecs && t.setCodecPreferences) t.setCodecPreferences(codecs);
          }
        } else {
          this.stream = new MediaStream();
          pc.addTransceiver('audio', { direction: 'recvonly' });
          pc.addTransceiver('video', { direction: 'recvonly' });
          pc.ontrack = (event) => {
            if (this.pc !== pc) return;
            this.stream.addTrack(event.track);
            showStream(this.pid, this.stream);
          };
        }
        pc.onconnectionstatechange = () => {
          if (this.pc !== pc) return;
          if (pc.connectionState === 'connected') {
            this.attempts = 0;
            this.set('live');
          } else if (pc.connectionState === 'failed') {
            this.retry('连接失败');
          }
        };
        await pc.setLocalDescription(await pc.createOffer());
        await gathered(pc);
        if (this.pc !== pc || this.closed) return;
        call.requests += 1;
        this.request = `${this.kind === 'publish' ? 'pub' : 'sub'}-${call.requests}`;
        call.pending.set(this.request, this);
        const sent = send({
          type: 'media_offer',
          request: this.request,
          kind: this.kind,
          target: this.target,
          sdp: pc.localDescription.sdp,
          variant: 'main',
        });
        if (!sent) this.stop();
      } catch (error) {
        console.error('offer failed', error);
        this.retry(String(error && error.message ? error.message : error));
      }
    }

    async answered(sdp) {
      const pc = this.pc;
      if (!pc || this.closed) return;
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp });
      } catch (error) {
        console.error('answer failed', error);
        this.retry('无法建立媒体连接');
      }
    }

    refused(code, reason) {
      console.warn('refused', this.kind, this.target, code, reason);
      if (code === 'unavailable') {
        this.retry(refusalText(code, reason));
        return;
      }
      this.drop();
      this.set('refused', refusalText(code, reason));
    }

    retry(detail) {
      this.drop();
      if (this.closed || call.ended) return;
      this.set('reconnecting', detail);
      const wait = BACKOFF_MS[Math.min(this.attempts, BACKOFF_MS.length) - 1] || BACKOFF_MS[0];
      this.timer = setTimeout(() => this.start(), wait);
    }

    // Ends the current connection (and tells the hub), keeping the link.
    drop() {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (this.request) {
        call.pending.delete(this.request);
        send({ type: 'media_close', request: this.request });
        this.request = null;
      }
      if (this.pc) {
        this.pc.close();
        this.pc = null;
      }
    }

    stop() {
      this.closed = true;
      this.drop();
      this.set('closed');
    }

    set(state, detail = '') {
      this.state = state;
      this.detail = detail;
      renderLinkState(this);
    }
  }

  // Receiving links whose pictures stalled are started again (see STALL_MS).
  async function watchVideo() {
    const now = Date.now();
    for (const [pid, link] of call.links) {
      const p = call.state && call.state.participants.find((q) => q.id === pid);
      const pc = link.pc;
      if (link.state !== 'live' || !pc || !p || !p.video) {
        link.videoBytes = -1;
        link.videoSeen = now;
        continue;
      }
      let bytes = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') bytes += s.bytesReceived || 0;
      });
      if (link.pc !== pc) continue;
      if (bytes !== link.videoBytes) {
        link.videoBytes = bytes;
        link.videoSeen = now;
      } else if (now - link.videoSeen > STALL_MS) {
        console.warn('no pictures from', pid, 'for', now - link.videoSeen, 'ms: receiving anew');
        link.videoBytes = -1;
        link.videoSeen = now;
        link.retry('画面中断');
      }
    }
  }

  // -- tiles ------------------------------------------------------------------------------------
  function tileFor(p) {
    let tile = call.tiles.get(p.id);
    if (tile) return tile;
    const root = document.createElement('div');
    root.className = 'tile';
    root.dataset.pid = p.id;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    const avatar = document.createElement('div');
    avatar.className = 'avatar';
    const initial = document.createElement('span');
    avatar.appendChild(initial);
    const label = document.createElement('div');
    label.className = 'label';
    const mic = document.createElement('span');
    mic.innerHTML = MIC_OFF_SVG;
    mic.hidden = true;
    const name = document.createElement('span');
    name.className = 'name';
    const center = document.createElement('span');
    center.className = 'center';
    label.append(mic, name, center);
    const state = document.createElement('div');
    state.className = 'tile-state';
    state.hidden = true;
    root.append(video, avatar, label, state);
    tile = { root, video, avatar, initial, mic, name, center, state, hasVideo: false };
    call.tiles.set(p.id, tile);
    $('grid').appendChild(root);
    return tile;
  }

  function play(video) {
    const playing = video.play();
    if (playing && playing.catch) {
      playing.catch(() => {
        // Sound needs a tap on this phone: play silently and offer the tap.
        if (!video.muted) {
          video.muted = true;
          video.dataset.wantsSound = '1';
          $('sound').hidden = false;
          video.play().catch(() => {});
        }
      });
    }
  }

  function showStream(pid, stream) {
    const tile = call.tiles.get(pid);
    if (!tile) return;
    if (tile.video.srcObject !== stream) tile.video.srcObject = stream;
    tile.hasVideo = stream.getVideoTracks().length > 0;
    play(tile.video);
    renderTiles();
  }

  function renderLinkState(link) {
    const pid = link.kind === 'publish' ? call.you : link.pid;
    const tile = call.tiles.get(pid);
    if (!tile) return;
    const text = {
      connecting: '连接中…',
      reconnecting: link.detail ? `${link.detail}，重新连接中…` : '重新连接中…',
      refused: link.detail ? `无法${link.kind === 'publish' ? '发送' : '接收'}：${link.detail}` : '',
    }[link.state];
    tile.state.textContent = text || '';
    tile.state.hidden = !text;
  }

  function renderTiles() {
    const state = call.state;
    if (!state) return;
    const n = state.participants.length;
    const grid = $('grid');
    grid.classList.toggle('pair', n === 2);
    grid.classList.toggle('trio', n === 3);
    grid.classList.toggle('quad', n === 4);
    grid.classList.toggle('crowd', n >= 5);
    for (const p of state.participants) {
      const tile = tileFor(p);
      const self = p.id === call.you;
      tile.root.classList.toggle('self', self);
      tile.root.classList.toggle('speaking', state.speaker === p.id);
      tile.name.textContent = self ? `${p.name}（我）` : p.name;
      tile.center.textContent = p.center;
      tile.initial.textContent = (p.name || '?').slice(0, 1);
      tile.mic.hidden = p.audio;
      const showsVideo = self ? call.videoOn && call.local && call.local.getVideoTracks().length > 0 : p.video;
      tile.avatar.hidden = Boolean(showsVideo && tile.hasVideo);
    }
  }

  // -- the room ------------------------------------------------------------------------------------
  function onRoom(state) {
    if (call.room && state.room !== call.room) return;
    if (state.closed) {
      end('会商已结束', '会商已结束，感谢参与。');
      return;
    }
    const first = !call.room;
    call.room = state.room;
    call.state = state;
    if (state.you) call.you = state.you;
    $('room-title').textContent = state.title;
    document.title = `城运会商 · ${state.title}`;

    const present = new Set(state.participants.map((p) => p.id));
    for (const [pid, tile] of call.tiles) {
      if (!present.has(pid)) {
        tile.root.remove();
        call.tiles.delete(pid);
      }
    }
    renderTiles();

    if (first) {
      setStatus('connected');
      if (call.local) {
        const self = call.tiles.get(call.you);
        if (self) {
          self.video.muted = true;
          showStream(call.you, call.local);
        }
        call.publish = new Link('publish', call.room, call.you);
        call.publish.start();
      }
      const audio = Boolean(call.local && call.local.getAudioTracks().length);
      const video = Boolean(call.local && call.local.getVideoTracks().length);
      if (!audio || !video) {
        call.audioOn = audio;
        call.videoOn = video;
        $('mute').disabled = !audio;
        $('camera').disabled = !video;
        send({ type: 'room_mute', room: call.room, audio, video });
        renderButtons();
      }
    }

    const wanted = new Set(state.participants.filter((p) => p.publishing && p.id !== call.you).map((p) => p.id));
    for (const pid of wanted) {
      if (!call.links.has(pid)) {
        const link = new Link('participant', `${call.room}/${pid}`, pid);
        call.links.set(pid, link);
        link.start();
      }
    }
    for (const [pid, link] of call.links) {
      if (!wanted.has(pid)) {
        link.stop();
        call.links.delete(pid);
        const tile = call.tiles.get(pid);
        if (tile) {
          tile.video.srcObject = null;
          tile.hasVideo = false;
        }
      }
    }
    renderTiles();
  }

  function onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    const link = message.request ? call.pending.get(message.request) : null;
    switch (message.type) {
      case 'room':
        onRoom(message);
        break;
      case 'media_answer':
        if (link) link.answered(message.sdp);
        break;
      case 'media_refused':
        if (link) link.refused(message.code, message.reason);
        break;
      case 'error':
        console.warn('server error', message.code, message.message);
        if (!call.room && message.code === 'forbidden') {
          end('无法加入', '此链接已使用、已过期，或会商已结束。如需加入，请向会商主持人索取新的链接。');
        }
        break;
      default:
        break;
    }
  }

  // -- joining, leaving -------------------------------------------------------------------------
  async function openMedia() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      warn(window.isSecureContext ? '此浏览器不支持摄像头和麦克风，仅可观看和收听。' : '此页面不是安全连接（HTTPS），浏览器不允许使用摄像头和麦克风，仅可观看和收听。');
      return null;
    }
    const tries = [
      { audio: true, video: { width: 640, height: 360 } },
      { audio: true, video: false },
    ];
    for (const constraints of tries) {
      try {
        return await navigator.mediaDevices.getUserMedia(constraints);
      } catch (error) {
        console.warn('getUserMedia', constraints, error);
      }
    }
    warn('无法使用摄像头和麦克风（未获授权或设备不可用），仅可观看和收听。');
    return null;
  }

  async function join() {
    if (call.joining) return;
    call.joining = true;
    $('join-button').disabled = true;
    setStatus('connecting');
    call.local = await openMedia();
    if (call.local && !call.local.getVideoTracks().length) warn('无法使用摄像头，仅发送声音。');
    $('join').hidden = true;
    $('call').hidden = false;
    $('controls').hidden = false;
    renderButtons();

    const ws = new WebSocket(wsUrl);
    call.ws = ws;
    ws.onmessage = onMessage;
    ws.onopen = () => {
      call.pingTimer = setInterval(() => send({ type: 'ping', t: Date.now() / 1000 }), PING_MS);
      call.watchTimer = setInterval(() => watchVideo().catch(() => {}), 1000);
    };
    ws.onclose = (event) => {
      if (event.code === 4403) {
        end('无法加入', '此链接已使用、已过期，或会商已结束。如需加入，请向会商主持人索取新的链接。');
      } else if (call.leaving) {
        end('您已离开会商', '感谢参与。此链接已失效。');
      } else if (!call.ended) {
        end('连接已断开', '与会商的连接已断开。此链接只能使用一次，如需重新加入，请向会商主持人索取新的链接。');
      }
    };
  }

  function end(title, text) {
    if (call.ended) return;
    call.ended = true;
    setStatus('ended');
    clearInterval(call.pingTimer);
    clearInterval(call.watchTimer);
    for (const link of call.links.values()) link.stop();
    call.links.clear();
    if (call.publish) call.publish.stop();
    if (call.local) for (const track of call.local.getTracks()) track.stop();
    if (call.ws && call.ws.readyState <= WebSocket.OPEN) call.ws.close(1000);
    $('ended-title').textContent = title;
    $('ended-text').textContent = text;
    $('join').hidden = true;
    $('call').hidden = true;
    $('controls').hidden = true;
    $('notice').hidden = true;
    $('sound').hidden = true;
    $('ended').hidden = false;
  }

  function leave() {
    call.leaving = true;
    $('leave').disabled = true;
    if (!send({ type: 'room_leave', room: call.room })) end('您已离开会商', '感谢参与。此链接已失效。');
  }

  // -- microphone and camera ----------------------------------------------------------------------
  function renderButtons() {
    const mute = $('mute');
    mute.textContent = call.audioOn ? '静音' : '取消静音';
    mute.setAttribute('aria-pressed', String(!call.audioOn));
    const camera = $('camera');
    camera.textContent = call.videoOn ? '关闭摄像头' : '打开摄像头';
    camera.setAttribute('aria-pressed', String(!call.videoOn));
  }

  function toggle(kind) {
    if (!call.local) return;
    if (kind === 'audio') call.audioOn = !call.audioOn;
    else call.videoOn = !call.videoOn;
    for (const track of call.local.getAudioTracks()) track.enabled = call.audioOn;
    for (const track of call.local.getVideoTracks()) track.enabled = call.videoOn;
    renderButtons();
    renderTiles();
    if (call.room) send({ type: 'room_mute', room: call.room, audio: call.audioOn, video: call.videoOn });
  }

  function enableSound() {
    for (const tile of call.tiles.values()) {
      if (tile.video.dataset.wantsSound) {
        delete tile.video.dataset.wantsSound;
        tile.video.muted = false;
        tile.video.play().catch(() => {});
      }
    }
    $('sound').hidden = true;
  }

  // -- for tests: what goes out and what comes in ----------------------------------------------
  async function stats() {
    const out = {
      status: call.status,
      room: call.room,
      you: call.you,
      publish: null,
      participants: {},
    };
    const codecOf = (report, s) => {
      const codec = s.codecId ? report.get(s.codecId) : null;
      return codec ? codec.mimeType : '';
    };
    if (call.publish && call.publish.pc) {
      const report = await call.publish.pc.getStats();
      const p = { state: call.publish.state, audioBytesSent: 0, videoBytesSent: 0, framesEncoded: 0, codec: '' };
      report.forEach((s) => {
        if (s.type !== 'outbound-rtp') return;
        if (s.kind === 'audio') p.audioBytesSent += s.bytesSent || 0;
        if (s.kind === 'video') {
          p.videoBytesSent += s.bytesSent || 0;
          p.framesEncoded += s.framesEncoded || 0;
          p.codec = codecOf(report, s) || p.codec;
          p.encoder = s.encoderImplementation || '';
        }
      });
      p.bytesSent = p.audioBytesSent + p.videoBytesSent;
      out.publish = p;
    }
    for (const [pid, link] of call.links) {
      const r = {
        state: link.state,
        framesDecoded: 0,
        frameWidth: 0,
        audioLevel: 0,
        totalAudioEnergy: 0,
        bytesReceived: 0,
        videoBytesReceived: 0,
        audioBytesReceived: 0,
        codec: '',
      };
      if (link.pc) {
        const report = await link.pc.getStats();
        report.forEach((s) => {
          if (s.type !== 'inbound-rtp') return;
          if (s.kind === 'video') {
            r.framesDecoded += s.framesDecoded || 0;
            r.frameWidth = s.frameWidth || r.frameWidth;
            r.videoBytesReceived += s.bytesReceived || 0;
            r.codec = codecOf(report, s) || r.codec;
          } else if (s.kind === 'audio') {
            r.audioLevel = Math.max(r.audioLevel, s.audioLevel || 0);
            r.totalAudioEnergy += s.totalAudioEnergy || 0;
            r.audioBytesReceived += s.bytesReceived || 0;
          }
        });
        r.bytesReceived = r.videoBytesReceived + r.audioBytesReceived;
      }
      out.participants[pid] = r;
    }
    return out;
  }

  // -- wiring ---------------------------------------------------------------------------------------
  window.cityopsStats = stats;
  window.cityopsJoin = join;

  function init() {
    $('join-button').addEventListener('click', join);
    $('mute').addEventListener('click', () => toggle('audio'));
    $('camera').addEventListener('click', () => toggle('video'));
    $('leave').addEventListener('click', leave);
    $('sound').addEventListener('click', enableSound);
    window.addEventListener('pagehide', () => {
      if (call.ws && call.ws.readyState === WebSocket.OPEN) call.ws.close(1000);
    });
    if (!window.RTCPeerConnection) {
      $('join-button').disabled = true;
      warn('此浏览器不支持视频会商（WebRTC），请使用系统自带浏览器或 Chrome 打开此链接。');
      return;
    }
    if (params.get('autojoin') === '1') join();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
