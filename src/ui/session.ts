/**
 * Where the admin key lives while the tab is open: sessionStorage only (gone when
 * the tab closes, never sent anywhere by the browser on its own, unlike a cookie,
 * and never put in a URL, which would end up in history and logs).
 */

const STORAGE_NAME = 'codexin.adminKey';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_NAME);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(STORAGE_NAME);
    else sessionStorage.setItem(STORAGE_NAME, key);
  } catch {
    // storage disabled: the key lives in memory for this page only
  }
}
