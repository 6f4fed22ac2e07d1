package dev.postern.broker.mailproxy;

import org.springframework.context.event.EventListener;

import dev.postern.broker.access.ApiClientRevokedEvent;
import dev.postern.broker.accounts.AccountChangedEvent;

/**
 * Ends the relayed sessions whose credential was just revoked on this replica: an app password, an
 * API client, or the mailbox itself (revoked, or connected again by another identity). The events
 * are this replica's own (Spring application events); what reaches other replicas is in
 * SECURITY.md.
 */
final class SessionRevocations {

    private final MailSessions sessions;

    SessionRevocations(MailSessions sessions) {
        this.sessions = sessions;
    }

    @EventListener
    void onAppPasswordRevoked(AppPasswordRevokedEvent event) {
        sessions.revokeCredential(event.appPasswordId(), MailSessions.Revocation.APP_PASSWORD_REVOKED);
    }

    @EventListener
    void onClientRevoked(ApiClientRevokedEvent event) {
        sessions.revokeCredential(event.clientId(), MailSessions.Revocation.CLIENT_REVOKED);
    }

    @EventListener
    void onAccountChanged(AccountChangedEvent event) {
        switch (event.change()) {
            case REVOKED -> sessions.revokeMailbox(event.account().id(), MailSessions.Revocation.ACCOUNT_REVOKED);
            case CONNECTED -> sessions.revokeOtherIdentities(event.account());
            case REFRESHED, STATUS -> {
                // The same holder's mailbox: its sessions stay.
            }
        }
    }
}
