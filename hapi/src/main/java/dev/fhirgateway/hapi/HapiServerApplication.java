package dev.fhirgateway.hapi;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.orm.jpa.JpaProperties;
import org.springframework.boot.autoconfigure.web.servlet.ServletWebServerFactoryAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.ComponentScan;

/**
 * HAPI FHIR JPA server for FHIR R4 at {@code /fhir}, configured from {@code hapi/application.yaml}.
 *
 * <p>Spring Boot brings only the servlet container and the connection pool: HAPI builds its
 * own entity manager, repositories and schema, and the many libraries it carries (Elasticsearch
 * client, Thymeleaf, Flyway, ...) must not be auto-configured into services nobody asked for.
 */
@SpringBootConfiguration
@ComponentScan
@ImportAutoConfiguration({
	PropertyPlaceholderAutoConfiguration.class,
	ServletWebServerFactoryAutoConfiguration.class,
	DataSourceAutoConfiguration.class
})
@EnableConfigurationProperties({HapiFhirProperties.class, JpaProperties.class})
public class HapiServerApplication {

	public static void main(String[] args) {
		SpringApplication.run(HapiServerApplication.class, args);
	}
}
