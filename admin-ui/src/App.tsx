import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, setCsrfToken, setSignedOutHandler, type Session } from "./api";
import { Loading, ProblemView } from "./components/common";
import { SignIn } from "./pages/SignIn";
import { Dashboard } from "./pages/Dashboard";
import { AppsPage } from "./pages/Apps";
import { NewAppPage } from "./pages/NewApp";
import { AppDetailPage } from "./pages/AppDetail";
import { MailboxesPage } from "./pages/mailboxes/MailboxesPage";
import { MailboxDetailPage } from "./pages/mailboxes/MailboxDetail";
import { ClientsPage } from "./pages/Clients";
import { AuditPage } from "./pages/Audit";

// Hash routing keeps every deep link on /admin/, which the broker already serves as index.html.
function currentRoute(): string[] {
  const hash = window.location.hash.replace(/^#\/?/, "");
  return hash ? hash.split("/").map(decodeURIComponent) : ["dashboard"];
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onChange = () => setRoute(currentRoute());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

const NAV: [string, string][] = [
  ["dashboard", "Dashboard"],
  ["apps", "Apps"],
  ["mailboxes", "Mailboxes"],
  ["clients", "API clients"],
  ["audit", "Audit log"],
];

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();

  const loadSession = useCallback(async () => {
    try {
      const current = await api.get<Session>("/admin/session");
      setCsrfToken(current.csrf_token);
      setSession(current);
      setLoadError(null);
    } catch (e) {
      setCsrfToken(null);
      if (e instanceof ApiError && e.status === 401) {
        setSession(null);
      } else {
        setLoadError(e);
        setSession(null);
      }
    }
  }, []);

  useEffect(() => {
    void loadSession();
    setSignedOutHandler(() => {
      setCsrfToken(null);
      setSession(null);
      setNotice("Your session has ended. Sign in again to continue.");
    });
    return () => setSignedOutHandler(null);
  }, [loadSession]);

  // Each page sets its own title so screen reader users and browser history know where they are.
  useEffect(() => {
    const label = NAV.find(([key]) => key === route[0])?.[1] ?? "Postern";
    document.title = session ? `${label} · Postern admin` : "Sign in · Postern admin";
  }, [route, session]);

  // After a page change, focus moves to the content so keyboard and screen reader users start there.
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    document.getElementById("content")?.focus();
  }, [route.join("/")]);

  const signOut = async () => {
    try {
      await api.del("/admin/session");
    } finally {
      setCsrfToken(null);
      setSession(null);
      setNotice("You are signed out.");
    }
  };

  if (session === undefined) {
    return (
      <main className="centered">
        <Loading what="your session" />
      </main>
    );
  }
  if (session === null) {
    return (
      <SignIn
        notice={notice}
        error={loadError}
        onSignedIn={async () => {
          setNotice(null);
          await loadSession();
        }}
      />
    );
  }

  return (
    <div className="layout">
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Postern admin</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([key, label]) => (
              <li key={key}>
                <a href={`#/${key}`} aria-current={route[0] === key ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span title={session.client_id}>{session.name ?? session.client_id}</span>
          <button type="button" className="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="content" tabIndex={-1}>
        <Page route={route} />
      </main>
    </div>
  );
}

function Page({ route }: { route: string[] }) {
  const [section, id, sub] = route;
  switch (section) {
    case "dashboard":
      return <Dashboard />;
    case "apps":
      if (id === "new") return <NewAppPage />;
      if (id) return <AppDetailPage appId={id} rotate={sub === "rotate"} />;
      return <AppsPage />;
    case "mailboxes":
      return id ? <MailboxDetailPage accountId={id} /> : <MailboxesPage />;
    case "clients":
      return <ClientsPage />;
    case "audit":
      return <AuditPage />;
    default:
      return <ProblemView error={new ApiError(404, { title: "Page not found", detail: `There is no page “${section}”.` })} />;
  }
}
