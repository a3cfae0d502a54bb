import type { Me } from '../session';
export function TriagePage(_: { me: Me }) {
  return <p>Triage</p>;
}
