package dev.postern.broker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** The Postern broker: a credential vault and token broker for mail. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class PosternApplication {

    public static void main(String[] args) {
        SpringApplication.run(PosternApplication.class, args);
    }
}
