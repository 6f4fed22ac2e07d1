package dev.postern.broker.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives a test a real Vault: declare a {@link TestVault} parameter and
 * {@code @ExtendWith(VaultExtension.class)}. See {@link TestVault#shared()} for where it comes
 * from; it never skips a test.
 */
public class VaultExtension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestVault.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return TestVault.shared();
    }
}
