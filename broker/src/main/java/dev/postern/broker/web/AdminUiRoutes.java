package dev.postern.broker.web;

import java.time.Duration;

import org.springframework.context.annotation.Configuration;
import org.springframework.http.CacheControl;
import org.springframework.web.servlet.config.annotation.ResourceHandlerRegistry;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** Serves the admin web app (built by the admin-ui module into static/admin) at /admin. */
@Configuration(proxyBeanMethods = false)
class AdminUiRoutes implements WebMvcConfigurer {

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        registry.addRedirectViewController("/admin", "/admin/");
        registry.addViewController("/admin/").setViewName("forward:/admin/index.html");
    }

    /**
     * The build names its scripts and styles after a hash of their content, so a browser may keep
     * them for good (a new build has new names) and a page load skips fetching and compiling them
     * again; index.html, which names them, stays uncached like every other answer.
     */
    @Override
    public void addResourceHandlers(ResourceHandlerRegistry registry) {
        registry.addResourceHandler("/admin/assets/**")
            .addResourceLocations("classpath:/static/admin/assets/")
            .setCacheControl(CacheControl.maxAge(Duration.ofDays(365)).cachePublic().immutable());
    }
}
