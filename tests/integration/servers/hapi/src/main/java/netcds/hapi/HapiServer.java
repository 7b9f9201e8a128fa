package netcds.hapi;

import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.ResponseHighlighterInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/**
 * Starts HAPI FHIR's R4 JPA server on 127.0.0.1 only, at http://127.0.0.1:PORT/fhir.
 *
 * <p>Configured from the environment: PORT (default 8090), TOKEN (a static bearer token the server
 * then demands on everything but /metadata; default none, open like the public sandbox),
 * PAGE_SIZE (default 20) and MAX_PAGE_SIZE (default 200). The RestfulServer is assembled the way
 * HAPI's JPA starter assembles it, without the starter's optional modules (CQL, MDM, IPS, bulk
 * export, subscriptions, the web tester UI).
 */
public final class HapiServer {

	private HapiServer() {}

	public static void main(String[] args) throws Exception {
		int port = Integer.parseInt(env("PORT", "8090"));
		String token = env("TOKEN", "");
		long started = System.nanoTime();

		AnnotationConfigApplicationContext spring = new AnnotationConfigApplicationContext(JpaWiring.class);
		RestfulServer fhir = restfulServer(spring, Integer.parseInt(env("PAGE_SIZE", "20")),
				Integer.parseInt(env("MAX_PAGE_SIZE", "200")));
		if (!token.isEmpty()) {
			fhir.registerInterceptor(new BearerTokenInterceptor(token));
		}

		Server jetty = new Server();
		ServerConnector connector = new ServerConnector(jetty);
		connector.setHost("127.0.0.1");
		connector.setPort(port);
		jetty.addConnector(connector);
		ServletContextHandler context = new ServletContextHandler();
		context.setContextPath("/");
		ServletHolder holder = new ServletHolder(fhir);
		holder.setInitOrder(1);
		context.addServlet(holder, "/fhir/*");
		jetty.setHandler(context);
		jetty.setStopAtShutdown(true);
		jetty.start();
		Runtime.getRuntime().addShutdownHook(new Thread(spring::close));

		System.out.printf("hapi: FHIR base http://127.0.0.1:%d/fhir (auth: %s), started in %.1f s%n",
				port, token.isEmpty() ? "none" : "bearer", (System.nanoTime() - started) / 1e9);
		jetty.join();
	}

	@SuppressWarnings({"rawtypes", "unchecked"})
	private static RestfulServer restfulServer(AnnotationConfigApplicationContext spring, int pageSize,
			int maxPageSize) {
		IFhirSystemDao systemDao = spring.getBean(IFhirSystemDao.class);
		RestfulServer fhir = new RestfulServer(systemDao.getContext());
		fhir.registerProviders(spring.getBean(ResourceProviderFactory.class).createProviders());
		fhir.registerProvider(spring.getBean(JpaSystemProvider.class));
		JpaCapabilityStatementProvider capabilities = new JpaCapabilityStatementProvider(fhir, systemDao,
				spring.getBean(JpaStorageSettings.class), spring.getBean(ISearchParamRegistry.class),
				spring.getBean(IValidationSupport.class));
		capabilities.setImplementationDescription("HAPI FHIR R4 Server (NET-CDS test server)");
		fhir.setServerConformanceProvider(capabilities);

		DatabaseBackedPagingProvider paging = spring.getBean(DatabaseBackedPagingProvider.class);
		paging.setDefaultPageSize(pageSize);
		paging.setMaximumPageSize(maxPageSize);
		fhir.setPagingProvider(paging);
		fhir.setDefaultResponseEncoding(EncodingEnum.JSON);
		fhir.setServerAddressStrategy(new IncomingRequestAddressStrategy());
		fhir.registerInterceptor(new ResponseHighlighterInterceptor());
		return fhir;
	}

	private static String env(String name, String fallback) {
		String value = System.getenv(name);
		return value == null || value.isEmpty() ? fallback : value;
	}
}
