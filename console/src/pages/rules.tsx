import type { Me } from '../session';
export function RulesPage(_: { me: Me }) {
  return <p>Rules</p>;
}
