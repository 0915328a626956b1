"""The export as flat tables (header, rows): the CSV files and the xlsx sheets share them."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from live import chain
from live.export.labels import CORRECTIONS, EVENT_NAMES, SCORE_STATUS, TIE_NOTE, iso, summary_of


def tables(export: Mapping[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    judges = {j["id"]: j for j in export["judges"]}
    names = {j: judges[j]["name"] for j in judges}
    groups = {g["key"]: g["name"] for g in export["groups"]}
    crit = [c["key"] for c in export["rubric"]]
    ranking_head = [
        "组别",
        "名次",
        "编号",
        "案例名称",
        "申报单位",
        "展示人",
        "最终得分",
        "未舍入均分",
        "奖项",
        "去掉最高",
        "去掉最低",
        "备注",
    ]
    ranking = []
    by_id = {c["id"]: c for c in export["cases"]}
    for g in export["groups"]:
        for r in g["ranking"]:
            case = by_id[r["id"]]
            note = TIE_NOTE.get(r["tie"] or "", "")
            ranking.append(
                [
                    g["name"],
                    r["rank"],
                    r["id"],
                    r["title"],
                    r["unit"],
                    r["presenter"],
                    Decimal(r["final"]),
                    Decimal(r["unrounded"]),
                    r["prize"] or "",
                    "、".join(names[j] for j in case["result"]["dropped_high"]),
                    "、".join(names[j] for j in case["result"]["dropped_low"]),
                    note,
                ]
            )
    scores_head = [
        "组别",
        "出场顺序",
        "编号",
        "案例名称",
        "评委编号",
        "评委",
        *[c["name"] for c in export["rubric"]],
        "总分",
        "状态",
        "提交时间",
    ]
    scores = []
    for case in sorted(export["cases"], key=lambda c: c["position"]):
        for s in case["scores"]:
            values = s.get("values") or {}
            scores.append(
                [
                    groups[case["group"]],
                    case["position"],
                    case["id"],
                    case["title"],
                    s["judge"],
                    names[s["judge"]],
                    *[Decimal(values[k]) if k in values else None for k in crit],
                    Decimal(s["total"]) if "total" in s else None,
                    SCORE_STATUS[s["status"]],
                    iso(s.get("at")) if s.get("at") else "",
                ]
            )
    corr_head = ["序号", "时间", "操作", "案例", "评委", "原因", "作废前总分"]
    corrections = []
    void_totals = {(v["seq"]): v.get("total") for c in export["cases"] for v in c["voids"]}
    for ev in export["audit"]:
        if ev["type"] not in CORRECTIONS:
            continue
        data = ev.get("data") or {}
        judge = data.get("judge")
        was = void_totals.get(ev["seq"])
        corrections.append(
            [
                ev["seq"],
                iso(ev["at"]),
                EVENT_NAMES[ev["type"]],
                data.get("case") or data.get("group") or "",
                names.get(judge, judge or ""),
                data.get("reason") or ("、".join(data.get("order", [])) or ""),
                Decimal(was) if was else None,
            ]
        )
    rec_head = ["评委编号", "评委", "案例", "案例名称", "原因"]
    recusals = [
        [
            r["judge"],
            names[r["judge"]],
            r["case"],
            by_id[r["case"]]["title"],
            "指定回避" if r["why"] == "explicit" else "同单位自动回避",
        ]
        for r in export["recusals"]
    ]
    audit_head = ["序号", "时间", "操作者", "事件", "摘要", "数据", "客户端ID", "前一哈希", "哈希"]
    audit = [
        [
            ev["seq"],
            iso(ev["at"]),
            names.get(ev["actor"], ev["actor"]),
            ev["type"],
            summary_of(ev, names),
            chain.canonical(ev.get("data"))[:30000],
            ev.get("cid") or "",
            ev["prev"],
            ev["hash"],
        ]
        for ev in export["audit"]
    ]
    summary_head = ["项目", "值"]
    summary = [
        ["标题", export["title"]],
        ["计分规则", export["rule"]],
        ["全部结束", "是" if export["finished"] else "否（结果未最终确定）"],
        ["日志头哈希 (head)", export["head"]],
        ["日志 epoch", export["epoch"]],
        ["事件数", export["events"]],
        ["导出时间", iso(export["generated_at"])],
        ["核验", "live verify 本文件的 JSON 导出，可由原始评分独立重算全部结果"],
    ]
    return {
        "ranking": (ranking_head, ranking),
        "scores": (scores_head, scores),
        "corrections": (corr_head, corrections),
        "recusals": (rec_head, recusals),
        "audit": (audit_head, audit),
        "summary": (summary_head, summary),
    }
