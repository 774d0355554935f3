package dev.fhirgateway.hapi;

import ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.StringUtils;

/**
 * Without {@code spring.datasource.url} (e.g. {@code SPRING_DATASOURCE_URL}) the server runs on an
 * in-memory H2 database, with HAPI's H2 dialect in place of the PostgreSQL one that
 * {@code hapi/application.yaml} names.
 */
public class InMemoryDatabaseFallback implements EnvironmentPostProcessor {

	static final String H2_URL = "jdbc:h2:mem:hapi;DB_CLOSE_DELAY=-1";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		if (StringUtils.hasText(environment.getProperty("spring.datasource.url"))) {
			return;
		}
		environment.getPropertySources().addFirst(new MapPropertySource("inMemoryDatabase", Map.of(
				"spring.datasource.url", H2_URL,
				"spring.datasource.driver-class-name", "org.h2.Driver",
				"spring.datasource.username", "sa",
				"spring.datasource.password", "",
				"spring.jpa.properties.hibernate.dialect", HapiFhirH2Dialect.class.getName())));
	}
}
