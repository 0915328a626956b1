// Chinese by default, English on request: t(key) looks up the page's dictionary, and the
// refusal codes the hub sends are turned into plain sentences here, once for every page.

const STORE_KEY = "live.lang";

export const ERRORS = {
  zh: {
    out_of_range: "分数超出该项满分",
    bad_step: "分数不符合最小分值单位",
    missing_criterion: "还有评分项未填写",
    unknown_criterion: "评分项不存在",
    bad_value: "分数格式不正确",
    wrong_shape: "评分格式与本次比赛不符",
    not_open: "该案例尚未开放评分",
    scoring_closed: "该案例评分已截止，此分数未被计入",
    recused: "您已回避该案例，无需评分",
    judge_absent: "您已被标记为缺席，请联系主持人",
    unknown_case: "案例不存在",
    id_reused: "提交编号重复，请重新提交",
    store_unavailable: "服务器暂时无法保存，稍后将自动重试",
    bad_token: "登录码无效",
    forbidden: "无此权限",
    too_many_frames: "操作过于频繁",
    offline: "网络已断开",
    too_few_scores: "有效评分不足，无法揭晓",
    scoring_open: "请先截止评分再揭晓",
    case_in_progress: "当前案例尚未完成",
    reason_required: "此操作需要填写原因",
    no_next_case: "所有案例均已完成",
    tie_unresolved: "奖项分界处存在并列，请先裁定",
    group_not_final: "该组尚有案例未揭晓",
    already_absent: "该评委已被标记为缺席",
    not_absent: "该评委未被标记为缺席",
    already_open: "评分已经开放",
    already_revealed: "该案例已揭晓",
    awards_complete: "该组奖项已全部揭晓",
    bad_args: "操作参数有误",
    bad_frame: "消息格式有误",
    bad_id: "提交编号无效",
    bad_json: "消息格式有误",
    case_locked: "该案例已揭晓，请先撤销揭晓",
    case_not_waiting: "该案例当前状态不允许此操作",
    no_current_case: "当前没有案例在台上",
    no_score: "该评委尚未为此案例打分",
    not_closed: "该案例尚未截止评分",
    not_current: "只能对当前案例执行此操作",
    not_on_stage: "请先将案例请上台",
    not_showing_awards: "请先在大屏上显示该组颁奖",
    not_tied: "这些案例并未并列",
    nothing_to_undo: "没有可撤销的揭晓",
    timer_not_running: "计时器未在运行",
    timer_running: "计时器已在运行",
    unknown_action: "未知操作",
    unknown_group: "组别不存在",
    unknown_judge: "评委不存在",
    unknown_type: "未知消息类型",
    conflict: "操作冲突，请重试",
    too_big: "消息过大",
    hello_timeout: "连接超时",
    bad_role: "身份类型无效",
    hello_first: "连接须先登记身份",
  },
  en: {
    out_of_range: "A score is above that criterion's maximum",
    bad_step: "A score is not a multiple of the allowed step",
    missing_criterion: "A criterion has no score yet",
    unknown_criterion: "Unknown criterion",
    bad_value: "A score is not a valid number",
    wrong_shape: "The score does not match this contest's rubric",
    not_open: "Scoring for this case is not open",
    scoring_closed: "Scoring for this case has closed; this score was not counted",
    recused: "You are recused from this case",
    judge_absent: "You are marked absent; please ask the host",
    unknown_case: "Unknown case",
    id_reused: "Duplicate submission id; please submit again",
    store_unavailable: "The server cannot save right now; it will retry",
    bad_token: "This code is not valid",
    forbidden: "Not allowed",
    too_many_frames: "Too many actions at once",
    offline: "The network is down",
    too_few_scores: "Too few valid scores to reveal",
    scoring_open: "Close scoring before revealing",
    case_in_progress: "The current case is not finished",
    reason_required: "This action needs a reason",
    no_next_case: "Every case is done",
    tie_unresolved: "A tie at a prize boundary must be resolved first",
    group_not_final: "This group still has cases to reveal",
    already_absent: "This judge is already marked absent",
    not_absent: "This judge is not marked absent",
    already_open: "Scoring is already open",
    already_revealed: "This case is already revealed",
    awards_complete: "Every prize of this group has been announced",
    bad_args: "The action's arguments are wrong",
    bad_frame: "Malformed message",
    bad_id: "Invalid submission id",
    bad_json: "Malformed message",
    case_locked: "This case is revealed: undo the reveal first",
    case_not_waiting: "This case's state does not allow that",
    no_current_case: "No case is on stage",
    no_score: "This judge has no score for the case",
    not_closed: "Scoring for this case is not closed",
    not_current: "This acts on the current case only",
    not_on_stage: "Put the case on stage first",
    not_showing_awards: "Show the group's awards on the big screen first",
    not_tied: "These cases are not tied",
    nothing_to_undo: "No reveal to undo",
    timer_not_running: "The timer is not running",
    timer_running: "The timer is already running",
    unknown_action: "Unknown action",
    unknown_group: "Unknown group",
    unknown_judge: "Unknown judge",
    unknown_type: "Unknown message type",
    conflict: "Conflicting action; please retry",
    too_big: "Message too large",
    hello_timeout: "Connection timed out",
    bad_role: "Unknown role",
    hello_first: "A connection must say hello first",
  },
};

export function getLang() {
  const chosen = new URLSearchParams(location.search).get("lang") || localStorage.getItem(STORE_KEY);
  return chosen === "en" ? "en" : "zh";
}

export function setLang(lang) {
  localStorage.setItem(STORE_KEY, lang === "en" ? "en" : "zh");
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
}

export function makeT(dictionaries) {
  return (key, vars = {}) => {
    const lang = getLang();
    let text = (dictionaries[lang] && dictionaries[lang][key]) ?? dictionaries.zh?.[key] ?? key;
    for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, value);
    return text;
  };
}

export function errorText(frame) {
  const lang = getLang();
  return ERRORS[lang][frame.code] || frame.message || frame.code;
}

// Fill every [data-i18n] element of the page from the dictionary.
export function applyI18n(t, root = document) {
  document.documentElement.lang = getLang() === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
