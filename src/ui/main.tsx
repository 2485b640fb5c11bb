/** The dashboard's entry: sign-in gate, navigation by URL hash, one page at a time. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { storedKey, storeKey } from './session';
import { KEY_REJECTED } from './api';
import { SignIn } from './pages/signin';
import { AccountsPage } from './pages/accounts';
import { KeysPage } from './pages/keys';
import { UsagePage } from './pages/usage';
import { RequestsPage } from './pages/requests';

const PAGES = {
  accounts: { title: 'Accounts', Page: AccountsPage },
  keys: { title: 'Keys', Page: KeysPage },
  usage: { title: 'Usage', Page: UsagePage },
  requests: { title: 'Requests', Page: RequestsPage },
} as const;
type PageName = keyof typeof PAGES;

const pageFromHash = (): PageName => {
  const name = location.hash.replace(/^#\/?/, '');
  return name in PAGES ? (name as PageName) : 'accounts';
};

function App() {
  const [adminKey, setAdminKey] = useState<string | null>(storedKey());
  const [page, setPage] = useState<PageName>(pageFromHash());
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    const onRejected = (event: Event) => {
      storeKey(null);
      setNotice(`Signed out: the server no longer accepts this admin key (${(event as CustomEvent<string>).detail})`);
      setAdminKey(null);
    };
    addEventListener(KEY_REJECTED, onRejected);
    return () => removeEventListener(KEY_REJECTED, onRejected);
  }, []);
  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    document.title = adminKey ? `${PAGES[page].title} · CodexIn` : 'Sign in · CodexIn';
  }, [page, adminKey]);

  if (!adminKey) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(key) => {
          storeKey(key);
          setNotice(null);
          setAdminKey(key);
        }}
      />
    );
  }
  const { Page } = PAGES[page];
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">CodexIn</span>
        <nav aria-label="Dashboard">
          {(Object.keys(PAGES) as PageName[]).map((name) => (
            <a key={name} href={`#/${name}`} aria-current={name === page ? 'page' : undefined}>
              {PAGES[name].title}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="btn btn-plain"
          onClick={() => {
            storeKey(null);
            setNotice('Signed out: the admin key was removed from this tab.');
            setAdminKey(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="content" tabIndex={-1}>
        <Page adminKey={adminKey} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
