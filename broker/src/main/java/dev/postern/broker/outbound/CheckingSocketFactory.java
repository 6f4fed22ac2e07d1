package dev.postern.broker.outbound;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;

import javax.net.ssl.SSLSocketFactory;

/**
 * Puts TLS on a connection only after checking the address it reached. The JDK's
 * {@code HttpsURLConnection} asks for an unconnected socket first; refusing that (as the JDK
 * documents, with an {@link UnsupportedOperationException} cause) makes it connect a plain socket
 * and hand it to {@link #createSocket(Socket, String, int, boolean)} for layering. That socket's
 * remote address is the one the name resolved to for this very connection, so a DNS answer that
 * changes between a check and the connect cannot slip through.
 */
final class CheckingSocketFactory extends SSLSocketFactory {

    private final SSLSocketFactory delegate;

    private final OutboundPolicy policy;

    CheckingSocketFactory(SSLSocketFactory delegate, OutboundPolicy policy) {
        this.delegate = delegate;
        this.policy = policy;
    }

    @Override
    public Socket createSocket() throws IOException {
        throw new SocketException("unconnected sockets are not offered", new UnsupportedOperationException());
    }

    @Override
    public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
        InetAddress reached = socket.getInetAddress();
        try {
            if (reached == null) {
                throw new EndpointNotAllowedException(AddressRules.Rule.HTTPS_ONLY, "the connection to " + host
                        + " has no remote address");
            }
            policy.checkAddress(host, reached);
        }
        catch (EndpointNotAllowedException ex) {
            socket.close();
            throw ex;
        }
        return delegate.createSocket(socket, host, port, autoClose);
    }

    // Direct connections would skip the check: the JDK uses them only as a fallback after a failed layering.
    @Override
    public Socket createSocket(String host, int port) throws IOException {
        throw new SocketException("only layered sockets are offered");
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        throw new SocketException("only layered sockets are offered");
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        throw new SocketException("only layered sockets are offered");
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        throw new SocketException("only layered sockets are offered");
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }
}
