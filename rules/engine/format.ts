import type { RuleIssue } from './types';

/** `10-backup.json:12:9 › backup-to-contract › /rules/0/event/params/contract: unknown contract "BKP"` */
export function formatIssue(issue: RuleIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  const rule = issue.rule === null ? '' : ` › ${issue.rule}`;
  return `${where}${rule} › ${issue.pointer || '/'}: ${issue.message}`;
}
