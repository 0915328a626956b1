// Look-ups from the ids in a view to the contest's records (case, group, judge, prize band),
// built once per contest section. Nothing here computes a score, a rank or a rule.

const cache = new WeakMap();

export function contestIndex(contest) {
  if (!contest) return build({ cases: [], groups: [], judges: [] });
  let index = cache.get(contest);
  if (!index) {
    index = build(contest);
    cache.set(contest, index);
  }
  return index;
}

function build(contest) {
  const cases = new Map((contest.cases || []).map((c) => [c.id, c]));
  const groups = new Map((contest.groups || []).map((g) => [g.key, g]));
  const judges = new Map((contest.judges || []).map((j) => [j.id, j]));
  return {
    cases,
    groups,
    judges,
    // A case's record, or a stand-in that shows its id (a view may name a case not yet known).
    caseInfo: (id) => cases.get(id) || { id, title: id || "", unit: "", presenter: "", group: "" },
    groupName: (key) => groups.get(key)?.name || key || "",
    judgeName: (id) => judges.get(id)?.name || id || "",
    // The band colour of a prize: its place in the group's configured list (1 = top).
    prizeRank(group, prize) {
      if (!prize) return 0;
      const list = groups.get(group)?.prizes || [];
      const i = list.findIndex((p) => p.name === prize);
      return i < 0 ? 0 : i + 1;
    },
  };
}
