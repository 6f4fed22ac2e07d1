import { ConnectLinkForm } from "./ConnectLinkForm";
import { MailboxList } from "./MailboxList";

/** The mailboxes: a connect link for a new one, and the paged, searchable list. */
export function MailboxesPage() {
  return (
    <>
      <h1>Mailboxes</h1>
      <ConnectLinkForm />
      <MailboxList />
    </>
  );
}
