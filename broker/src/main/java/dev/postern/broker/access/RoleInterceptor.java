package dev.postern.broker.access;

import java.util.Arrays;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.stereotype.Component;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;

import dev.postern.broker.Allow;
import dev.postern.broker.ApiException;
import dev.postern.broker.Role;

/** Lets a request reach a {@code /v1} handler only when the caller holds a role it {@link Allow}s. */
@Component
class RoleInterceptor implements HandlerInterceptor {

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        if (!(handler instanceof HandlerMethod method) || !request.getRequestURI().startsWith("/v1/")) {
            return true;
        }
        Object principal = request.getAttribute(ApiPrincipal.ATTRIBUTE);
        if (!(principal instanceof ApiPrincipal caller)) {
            throw ApiException.forbidden("This call needs an authenticated API client.");
        }
        Allow allow = method.getMethodAnnotation(Allow.class);
        List<Role> roles = allow == null ? List.of() : Arrays.asList(allow.value());
        if (!roles.contains(caller.role())) {
            throw ApiException.forbidden(roles.isEmpty() ? "This call is not open to API clients."
                    : "This call needs the role " + ApiPrincipal.describe(roles) + ".");
        }
        return true;
    }
}
