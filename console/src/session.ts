/**
 * The token lives in sessionStorage: this tab only, gone when the tab closes, never a cookie (so no
 * other page or request carries it). /docs reads the same key to try calls with it.
 */
export const TOKEN_KEY = 'hub.console.token';

export type Role = 'viewer' | 'operator' | 'admin';

/** `GET /api/v1/me`: who the token is, its role and its company scope. */
export interface Me {
  name: string;
  role: Role;
  all: boolean;
  companies: Array<{ id: string; name: string }>;
}

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t: string): void => sessionStorage.setItem(TOKEN_KEY, t);
export const clearToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
/** Whether the token's role reaches `need` — only to hide what the server would refuse anyway. */
export const roleAtLeast = (me: Me, need: Role): boolean => RANK[me.role] >= RANK[need];
