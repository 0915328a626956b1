"""What the export's codes are called where people read them (spreadsheets, printed pages):
a judge's score status, a case status, each event type, and times in local ISO form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

# How a judge's entry for a case counts; the Chinese is what the spreadsheets and pages show.
SCORE_STATUS = {
    "counted": "计入",
    "dropped_high": "去掉最高",
    "dropped_low": "去掉最低",
    "submitted": "已提交（未亮分）",
    "recused": "回避",
    "absent": "缺席",
    "waiting": "待评",
    "missing": "未评",
}
# A placing's tie note (scoring.tie_note), as the spreadsheets show it.
TIE_NOTE = {"boundary_tie": "并列（跨奖项，待裁定）", "tied": "并列"}
EVENT_NAMES = {
    "created": "创建决赛",
    "staged": "上台",
    "timer": "计时",
    "opened": "开始评分",
    "closed": "结束评分",
    "scored": "评分",
    "voided": "作废评分",
    "revealed": "亮分",
    "reveal_undone": "撤销亮分",
    "reopened": "重新评分",
    "judge_absent": "评委缺席",
    "judge_present": "评委恢复出席",
    "moved": "调整顺序",
    "skipped": "跳过",
    "tie_resolved": "裁定并列",
    "screen": "大屏切换",
    "award_step": "颁奖",
}
CORRECTIONS = (
    "voided",
    "reopened",
    "judge_absent",
    "judge_present",
    "skipped",
    "moved",
    "tie_resolved",
    "reveal_undone",
)
CASE_STATUS = {
    "waiting": "待展示",
    "on_stage": "展示中",
    "scoring": "评分中",
    "closed": "已结束评分",
    "revealed": "已亮分",
    "skipped": "未展示（跳过）",
}


def iso(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


def summary_of(event: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One line of the audit log for people: what happened, to which case, by whom."""
    kind, data = event["type"], dict(event.get("data") or {})
    label = EVENT_NAMES.get(kind, kind)
    if kind == "created":
        return f"{label}：{data.get('contest', {}).get('title', '')}"
    parts = []
    for key in ("case", "judge", "group", "screen", "op", "seconds", "after", "order", "total", "reason"):
        if data.get(key) not in (None, "", []):
            value = data[key]
            value = names.get(value, value) if key == "judge" else value
            parts.append(f"{key}={value if not isinstance(value, list) else ','.join(value)}")
    return f"{label} " + " ".join(parts) if parts else label
