// Shared by the big screen and the audience page: the words on screen (zh default, en) and
// look-ups from ids in the public view to names. Nothing here computes a score or a rank.

export const STRINGS = {
  zh: {
    loading: "正在连接…",
    reconnecting: "正在重新连接…",
    reconnectingHint: "显示的可能不是最新内容",
    welcome: "欢迎",
    startingSoon: "比赛即将开始",
    nextGroup: "下一组别",
    casesInGroup: "本组共 {n} 个案例",
    firstCase: "首个展示",
    onStage: "正在展示",
    presenter: "汇报人",
    unit: "单位",
    paused: "计时暂停",
    overtime: "已超时",
    timeLeft: "剩余时间",
    scoring: "评委评分中",
    scoringClosed: "评分已截止 · 等待揭晓",
    submitted: "已提交",
    waiting: "未提交",
    recused: "回避",
    absent: "缺席",
    judgesScores: "评委评分",
    high: "最高分",
    low: "最低分",
    finalScore: "最后得分",
    rankInGroup: "组内第 {rank} 名",
    tied: "并列",
    provisional: "暂定",
    noPrize: "暂未获奖",
    dropRule: "去掉一个最高分和一个最低分后取平均",
    board: "成绩排行",
    inProgress: "进行中",
    final: "最终",
    revealedOf: "已揭晓 {n} / {of}",
    pendingCount: "另有 {n} 个案例待揭晓",
    skippedCount: "{n} 个案例缺席",
    boundaryTie: "待裁定",
    noRows: "尚无揭晓成绩",
    awards: "获奖名单",
    awardsSoon: "颁奖即将开始",
    awardsPending: "还有 {n} 个奖项待揭晓",
    awardsDone: "全部奖项已揭晓",
    points: "分",
    now: "现在",
    latest: "最新揭晓",
    boards: "各组排行",
    nothingYet: "暂无",
    statusOnStage: "展示中",
    statusScoring: "评分中",
    statusClosed: "等待揭晓",
    statusRevealed: "已揭晓",
    statusSkipped: "缺席",
    updated: "更新",
    langSwitch: "English",
  },
  en: {
    loading: "Connecting…",
    reconnecting: "Reconnecting…",
    reconnectingHint: "What you see may be out of date",
    welcome: "Welcome",
    startingSoon: "The final starts soon",
    nextGroup: "Next group",
    casesInGroup: "{n} cases in this group",
    firstCase: "First up",
    onStage: "On stage",
    presenter: "Presenter",
    unit: "Unit",
    paused: "Timer paused",
    overtime: "Overtime",
    timeLeft: "Time left",
    scoring: "Judges are scoring",
    scoringClosed: "Scoring closed · awaiting the reveal",
    submitted: "Submitted",
    waiting: "Waiting",
    recused: "Recused",
    absent: "Absent",
    judgesScores: "Judges' scores",
    high: "High",
    low: "Low",
    finalScore: "Final score",
    rankInGroup: "Rank {rank} in group",
    tied: "tied",
    provisional: "provisional",
    noPrize: "No prize yet",
    dropRule: "Highest and lowest dropped, the rest averaged",
    board: "Standings",
    inProgress: "In progress",
    final: "Final",
    revealedOf: "{n} / {of} revealed",
    pendingCount: "{n} more to be revealed",
    skippedCount: "{n} absent",
    boundaryTie: "to be resolved",
    noRows: "No results yet",
    awards: "Awards",
    awardsSoon: "The awards start soon",
    awardsPending: "{n} more prize levels to announce",
    awardsDone: "Every prize announced",
    points: "pts",
    now: "Now",
    latest: "Latest result",
    boards: "Standings",
    nothingYet: "Nothing yet",
    statusOnStage: "On stage",
    statusScoring: "Scoring",
    statusClosed: "Awaiting reveal",
    statusRevealed: "Revealed",
    statusSkipped: "Absent",
    updated: "updated",
    langSwitch: "中文",
  },
};

let cached = null;

// Id -> record maps for the contest section, rebuilt only when the section object changes.
export function lookup(contest) {
  if (!contest) return { cases: new Map(), groups: new Map(), judges: new Map(), prizeRank: () => 0 };
  if (cached && cached.contest === contest) return cached.maps;
  const groups = new Map((contest.groups || []).map((g) => [g.key, g]));
  const maps = {
    cases: new Map((contest.cases || []).map((c) => [c.id, c])),
    groups,
    judges: new Map((contest.judges || []).map((j) => [j.id, j])),
    // The band colour of a prize: its place in the group's configured list (1 = top).
    prizeRank(group, prize) {
      if (!prize) return 0;
      const list = groups.get(group)?.prizes || [];
      const i = list.findIndex((p) => p.name === prize);
      return i < 0 ? 0 : i + 1;
    },
  };
  cached = { contest, maps };
  return maps;
}

// A tiny element builder: h("div", {class: "x"}, "text", child).
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function clock(date = new Date()) {
  return date.toLocaleTimeString("en-GB", { hour12: false });
}

// Count-up of a decimal string the hub sent: intermediate frames only; the caller ends on
// the exact string. Returns a cancel function.
export function countUp(node, target, ms, done) {
  const decimals = (target.split(".")[1] || "").length;
  const end = Number(target);
  const start = performance.now();
  let frame = 0;
  const step = (now) => {
    const p = Math.min(1, (now - start) / ms);
    if (p >= 1 || !Number.isFinite(end)) {
      node.textContent = target;
      done?.();
      return;
    }
    const eased = 1 - (1 - p) ** 3;
    node.textContent = (end * eased).toFixed(decimals);
    frame = requestAnimationFrame(step);
  };
  frame = requestAnimationFrame(step);
  return () => cancelAnimationFrame(frame);
}

// Show a "reconnecting" notice once the link has been down for `after` ms, or when no frame
// has arrived for `silentMs` (a half-open link looks "online" but delivers nothing).
export function watchLink(client, onChange, { after = 3000, silentMs = 15000 } = {}) {
  let downSince = null;
  let shown = null;
  const check = () => {
    const online = client.status === "online";
    if (!online && downSince === null) downSince = Date.now();
    if (online) downSince = null;
    const silent = online && client.lastFrameAt && Date.now() - client.lastFrameAt > silentMs;
    const stale = (downSince !== null && Date.now() - downSince >= after) || silent;
    if (stale !== shown) {
      shown = stale;
      onChange(stale);
    }
  };
  client.addEventListener("status", check);
  setInterval(check, 500);
  // A ping every 5 s keeps frames flowing (and the server clock offset fresh); after a long
  // silence the socket is dropped so that LiveClient reconnects and resyncs.
  setInterval(() => {
    if (client.status !== "online") return;
    if (Date.now() - client.lastFrameAt > silentMs && client.ws) client.ws.close();
    else client.sendRaw({ type: "ping" });
  }, 5000);
  check();
}
