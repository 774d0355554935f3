package dev.fhirgateway.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.interceptor.CascadingDeleteInterceptor;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.narrative.DefaultThymeleafNarrativeGenerator;
import ca.uhn.fhir.narrative.INarrativeGenerator;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** HAPI's REST layer over the JPA storage: the FHIR R4 endpoint at {@code /fhir}. */
@Configuration
public class FhirServletConfig {

	private static final String FHIR_PATH = "/fhir/*";

	/** HAPI's generated narrative ({@code text}) for resources that carry none, or none at all. */
	@Bean
	public INarrativeGenerator narrativeGenerator(HapiFhirProperties properties) {
		return properties.narrativeEnabled() ? new DefaultThymeleafNarrativeGenerator() : new NullNarrativeGenerator();
	}

	/** A {@link RestfulServer} with a resource provider per resource type and the system-level provider. */
	@Bean
	public RestfulServer fhirServer(
			FhirContext fhirContext,
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviders,
			JpaSystemProvider<?, ?> systemProvider,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider,
			CascadingDeleteInterceptor cascadingDeleteInterceptor,
			HapiFhirProperties properties) {
		RestfulServer server = new RestfulServer(fhirContext);
		server.registerProviders(resourceProviders.createProviders());
		server.registerProvider(systemProvider);
		server.setServerConformanceProvider(new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport));
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		// Search pages are kept in the database, so a `next` link works on any node.
		pagingProvider.setDefaultPageSize(properties.defaultPageSize());
		pagingProvider.setMaximumPageSize(properties.maxPageSize());
		server.setPagingProvider(pagingProvider);
		if (properties.allowCascadingDeletes()) {
			server.registerInterceptor(cascadingDeleteInterceptor);
		}
		return server;
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer fhirServer) {
		ServletRegistrationBean<RestfulServer> registration = new ServletRegistrationBean<>(fhirServer, FHIR_PATH);
		// Initialise at start-up, so the server is ready (providers bound) when the port opens.
		registration.setLoadOnStartup(1);
		return registration;
	}
}
