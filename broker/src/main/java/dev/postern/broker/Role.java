package dev.postern.broker;

/** What an API client may do: manage everything, fetch tokens, or read monitoring views. */
public enum Role {
    ADMIN, CLIENT, MONITOR
}
