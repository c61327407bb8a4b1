// Which event types a subscription takes, as Outlet decides it
// (outlet.MatchEventType): no filters is every type; "*" too; "invoice.*"
// every type that starts with "invoice."; otherwise the exact name. Outlet's
// own operational events (outlet.…) are taken only by filters that name
// them, exactly or with a pattern such as "outlet.*": never by "every type".
export function matchEventType(filters: string[] | null | undefined, type: string): boolean {
  const operational = type.startsWith("outlet.");
  if (!filters || filters.length === 0) return !operational;
  return filters.some(
    (f) => f === type || (f === "*" && !operational) || (f.endsWith("*") && f.length > 1 && type.startsWith(f.slice(0, -1))),
  );
}
